package app

import (
	"context"
	"sync"
	"time"
)

// Background churn, for a demo whose charts move without anyone pressing knobs.
const (
	churnPeak   = 300              // goroutines at the top of the wave
	churnPeriod = 60 * time.Second // one rise and fall
	churnSteps  = 40               // changes per period
	allocTicks  = 10               // allocations per second at --alloc-rate
)

// churnGoroutines raises the number of extra goroutines from 0 to churnPeak
// and back down once per period, again and again, until ctx is done; then
// it stops them all.
func churnGoroutines(ctx context.Context, period time.Duration) {
	var stops []chan struct{}
	var wg sync.WaitGroup
	defer func() {
		for _, s := range stops {
			close(s)
		}
		wg.Wait()
	}()
	tick := time.NewTicker(period / churnSteps)
	defer tick.Stop()
	for step := 0; ; step++ {
		target := triangleWave(step, churnSteps, churnPeak)
		for len(stops) < target {
			s := make(chan struct{})
			stops = append(stops, s)
			wg.Go(func() { <-s })
		}
		for len(stops) > target {
			close(stops[len(stops)-1])
			stops = stops[:len(stops)-1]
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// triangleWave is 0 at step 0, peak at steps/2 and 0 again at steps.
func triangleWave(step, steps, peak int) int {
	half := steps / 2
	pos := step % steps
	if pos > half {
		pos = steps - pos
	}
	return peak * pos / half
}

// churnAllocations allocates rate bytes per second as garbage, in
// allocTicks slices, until stop is closed.
func churnAllocations(stop <-chan struct{}, rate ByteSize) {
	perTick := max(int64(rate)/allocTicks, 1)
	tick := time.NewTicker(time.Second / allocTicks)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			_ = allocate(perTick)
		}
	}
}
