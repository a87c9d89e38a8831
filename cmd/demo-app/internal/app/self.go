package app

import (
	"math"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
)

// Self is the app's own report of its runtime, read at request time.
type Self struct {
	// Goroutines is runtime.NumGoroutine().
	Goroutines int `json:"goroutines"`
	// Threads is the threadcreate profile's count, what go_threads reports.
	Threads int `json:"threads"`
	// GOMAXPROCS is runtime.GOMAXPROCS(0).
	GOMAXPROCS int `json:"gomaxprocs"`
	// The following are runtime.MemStats fields of the same names.
	HeapAlloc    uint64 `json:"heapAlloc"`
	HeapInuse    uint64 `json:"heapInuse"`
	HeapSys      uint64 `json:"heapSys"`
	HeapObjects  uint64 `json:"heapObjects"`
	Sys          uint64 `json:"sys"`
	NumGC        uint32 `json:"numGC"`
	PauseTotalNs uint64 `json:"pauseTotalNs"`
	Mallocs      uint64 `json:"mallocs"`
	Frees        uint64 `json:"frees"`
	TotalAlloc   uint64 `json:"totalAlloc"`
	// STWPauseSecondsTotal is the total stop-the-world time so far: the sum
	// of the /sched/pauses/total/{gc,other}:seconds histograms, each bucket
	// counted at its midpoint.
	STWPauseSecondsTotal float64 `json:"stwPauseSecondsTotal"`
	// GCCPUFraction is MemStats.GCCPUFraction: the GC's share of the CPU
	// available since the start, its idle-time marking left out.
	GCCPUFraction float64 `json:"gcCPUFraction"`
	// GCCPUSeconds and TotalCPUSeconds are runtime/metrics'
	// /cpu/classes/gc/total:cpu-seconds and /cpu/classes/total:cpu-seconds
	// (GOMAXPROCS × wall time): their increases over a window give the
	// GC's share of the CPU over it.
	GCCPUSeconds    float64 `json:"gcCPUSeconds"`
	TotalCPUSeconds float64 `json:"totalCPUSeconds"`
	// PID is the process id.
	PID int `json:"pid"`
}

// ReadSelf reads the report. runtime.ReadMemStats stops the world briefly.
func ReadSelf() Self {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	cpu := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(cpu)
	return Self{
		Goroutines:           runtime.NumGoroutine(),
		Threads:              pprof.Lookup("threadcreate").Count(),
		GOMAXPROCS:           runtime.GOMAXPROCS(0),
		HeapAlloc:            ms.HeapAlloc,
		HeapInuse:            ms.HeapInuse,
		HeapSys:              ms.HeapSys,
		HeapObjects:          ms.HeapObjects,
		Sys:                  ms.Sys,
		NumGC:                ms.NumGC,
		PauseTotalNs:         ms.PauseTotalNs,
		Mallocs:              ms.Mallocs,
		Frees:                ms.Frees,
		TotalAlloc:           ms.TotalAlloc,
		STWPauseSecondsTotal: stwPauseSeconds(),
		GCCPUFraction:        ms.GCCPUFraction,
		GCCPUSeconds:         cpu[0].Value.Float64(),
		TotalCPUSeconds:      cpu[1].Value.Float64(),
		PID:                  os.Getpid(),
	}
}

// stwPauseSeconds approximates the total stop-the-world time from the
// runtime/metrics pause histograms.
func stwPauseSeconds() float64 {
	samples := []metrics.Sample{
		{Name: "/sched/pauses/total/gc:seconds"},
		{Name: "/sched/pauses/total/other:seconds"},
	}
	metrics.Read(samples)
	total := 0.0
	for _, s := range samples {
		if s.Value.Kind() == metrics.KindFloat64Histogram {
			total += histogramSum(s.Value.Float64Histogram())
		}
	}
	return total
}

// histogramSum sums counts × bucket midpoints; an open bucket (an infinite
// bound) counts at its finite bound.
func histogramSum(h *metrics.Float64Histogram) float64 {
	sum := 0.0
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		mid := (lo + hi) / 2
		switch {
		case math.IsInf(lo, -1):
			mid = hi
		case math.IsInf(hi, 1):
			mid = lo
		}
		sum += float64(n) * mid
	}
	return sum
}
