package app

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// growTick is how often the grow knob allocates its next slice.
const growTick = 100 * time.Millisecond

// Grower grows the live heap at a steady rate until it keeps a total, then
// holds it, as a cache without a bound does on its way to the container's
// memory limit. It is safe for concurrent use.
type Grower struct {
	mu   sync.Mutex
	kept Allocator
	rate ByteSize      // bytes per second; 0 when not growing
	upTo ByteSize      // the total to stop at
	stop chan struct{} // closed to stop the growing loop; nil when none runs
	done chan struct{} // closed when the growing loop has returned
}

// Start grows the kept memory by rate bytes per second until upTo bytes are
// kept, in place of any growth started before (what is kept stays; an upTo
// below it holds it as it is). It returns the bytes kept so far.
func (g *Grower) Start(rate, upTo ByteSize) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if rate < 1 || rate > maxAllocRate {
		return g.kept.Kept(), fmt.Errorf("grow by %d bytes per second: want 1 to %d", int64(rate), int64(maxAllocRate))
	}
	if upTo < 1 || upTo > maxKeptBytes {
		return g.kept.Kept(), fmt.Errorf("grow up to %d bytes: want 1 to %d", int64(upTo), int64(maxKeptBytes))
	}
	g.stopLoop()
	g.rate, g.upTo = rate, upTo
	g.stop, g.done = make(chan struct{}), make(chan struct{})
	go g.grow(rate, int64(upTo), g.stop, g.done)
	return g.kept.Kept(), nil
}

// Stop stops growing, drops what was kept and returns it to the operating
// system (debug.FreeOSMemory runs a GC), so the heap and the process's
// memory fall at once. It returns how many bytes were kept.
func (g *Grower) Stop() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopLoop()
	n := g.kept.Release()
	if n > 0 {
		debug.FreeOSMemory()
	}
	return n
}

// Growing returns the rate and total of the growth last started (0 after
// Stop) and the bytes kept.
func (g *Grower) Growing() (rate, upTo ByteSize, kept int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rate, g.upTo, g.kept.Kept()
}

// stopLoop stops the growing loop, if any, and waits for it. g.mu is held.
func (g *Grower) stopLoop() {
	if g.stop == nil {
		return
	}
	close(g.stop)
	<-g.done
	g.rate, g.upTo, g.stop, g.done = 0, 0, nil, nil
}

// grow keeps rate bytes more per second until upTo are kept or stop is
// closed; then it closes done.
func (g *Grower) grow(rate ByteSize, upTo int64, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	began := time.Now()
	var grown int64
	tick := time.NewTicker(growTick)
	defer tick.Stop()
	for {
		kept := g.kept.Kept()
		if kept >= upTo {
			return
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		due := min(int64(float64(rate)*time.Since(began).Seconds())-grown, upTo-kept, maxAllocPerRequest)
		if due < 1 {
			continue
		}
		if _, err := g.kept.Alloc(due, true); err != nil {
			return // Start's bounds keep the total under maxKeptBytes: unreachable.
		}
		grown += due
	}
}
