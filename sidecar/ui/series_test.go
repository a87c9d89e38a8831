package ui

import (
	"math"
	"time"

	"github.com/gopherscope/gopherscope/sidecar/history"
)

// Shape of the realistic series the browser test charts: half an hour at
// 10 s, the app down for four samples and restarted after them, 500
// goroutines parked for a while and 64 MiB kept for a shorter while.
const (
	seriesLen      = 180
	seriesInterval = 10 * time.Second
	downFrom       = 100 // first of the four samples where the app did not answer
	downTo         = 103
	mib            = 1 << 20
)

// realisticRing fills a real history.Ring with what a sampler would have
// recorded from a busy Go service, ending at end.
func realisticRing(end time.Time) *history.Ring {
	r := history.New(360)
	allocTotal, gcCount := 5e9, 2000.0
	for i := range seriesLen {
		p := history.Point{Time: end.Add(-time.Duration(seriesLen-1-i) * seriesInterval), TargetUp: true}
		if i >= downFrom && i <= downTo {
			p.TargetUp = false
			r.Add(p)
			continue
		}
		if i == downTo+1 { // counters start over in the new process
			p.Restarted = true
			allocTotal, gcCount = 2e6, 1
		}
		goroutines := 40 + 15*math.Sin(float64(i)/6)
		if i >= 50 && i < 90 {
			goroutines += 500
		}
		inuse := 8*mib + float64(i%12)*3*mib // GC sawtooth
		if i >= 60 && i < 80 {
			inuse += 64 * mib
		}
		rate := 1.5*mib + 0.5*mib*math.Sin(float64(i)/9)
		allocTotal += rate * seriesInterval.Seconds()
		if i%3 == 0 {
			gcCount++
		}
		jitter := 1 + 0.3*math.Sin(float64(i)/4)
		p.Goroutines = ptr(math.Round(goroutines))
		p.Threads = ptr(9 + float64(i%3))
		p.HeapInuseBytes = ptr(inuse)
		p.HeapAllocBytes = ptr(inuse * 0.8)
		p.HeapSysBytes = ptr(inuse + 16*mib)
		p.AllocBytesTotal = ptr(allocTotal)
		p.GCCount = ptr(gcCount)
		p.GCPauseQuantiles = &[5]float64{18e-6 * jitter, 32e-6 * jitter, 51e-6 * jitter, 84e-6 * jitter, 310e-6 * jitter}
		r.Add(p)
	}
	return r
}

func ptr(v float64) *float64 { return &v }
