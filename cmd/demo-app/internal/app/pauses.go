package app

import (
	"math"
	"runtime/metrics"
)

// The runtime/metrics histograms of stop-the-world pauses.
const (
	gcPausesMetric    = "/sched/pauses/total/gc:seconds"
	otherPausesMetric = "/sched/pauses/total/other:seconds"
)

// Pauses is the stop-the-world time of the process so far, read from
// runtime/metrics alone: reading it stops nothing, so a benchmark can poll
// it without adding to what it measures (GET /self calls
// runtime.ReadMemStats, itself a pause).
type Pauses struct {
	// GC are the pauses of the garbage collector (two per cycle).
	GC PauseTotal `json:"gc"`
	// Other are all other pauses: runtime.ReadMemStats (expvar's memstats),
	// goroutine profiles, GOMAXPROCS changes and the like.
	Other PauseTotal `json:"other"`
}

// PauseTotal sums one pause histogram. The runtime records each pause's
// duration in a bucket, not exactly, so the time is given as the sum of the
// buckets' midpoints with the sums of their lower and upper bounds around it;
// the count is exact.
type PauseTotal struct {
	// Count is the number of pauses.
	Count uint64 `json:"count"`
	// Seconds is the total, each pause counted at its bucket's midpoint.
	Seconds float64 `json:"seconds"`
	// MinSeconds and MaxSeconds bound the true total.
	MinSeconds float64 `json:"minSeconds"`
	MaxSeconds float64 `json:"maxSeconds"`
}

// ReadPauses reads both pause histograms.
func ReadPauses() Pauses {
	samples := []metrics.Sample{{Name: gcPausesMetric}, {Name: otherPausesMetric}}
	metrics.Read(samples)
	var p Pauses
	for _, s := range samples {
		if s.Value.Kind() != metrics.KindFloat64Histogram {
			continue
		}
		total := pauseTotal(s.Value.Float64Histogram())
		if s.Name == gcPausesMetric {
			p.GC = total
		} else {
			p.Other = total
		}
	}
	return p
}

// pauseTotal sums a histogram of durations. A bucket open below counts from
// zero (no pause is negative); one open above counts at its finite bound.
func pauseTotal(h *metrics.Float64Histogram) PauseTotal {
	t := PauseTotal{Seconds: histogramSum(h)}
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		lo, hi := max(h.Buckets[i], 0), h.Buckets[i+1]
		if math.IsInf(hi, 1) {
			hi = lo
		}
		t.Count += n
		t.MinSeconds += float64(n) * lo
		t.MaxSeconds += float64(n) * hi
	}
	return t
}
