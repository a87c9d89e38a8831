package sidecar

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/normalize"
	"github.com/gopherscope/gopherscope/sidecar/source"
)

// FindingsPath serves the findings active after the latest sample as JSON.
const FindingsPath = "/api/v1/findings"

// FindingsResponse is the body of GET /api/v1/findings.
type FindingsResponse struct {
	// Findings are the active findings, sorted by kind.
	Findings []findings.Finding `json:"findings"`
}

// Series of the app that the detectors read beyond normalize's own.
const (
	sysBytes          = "go_memstats_sys_bytes"
	heapReleasedBytes = "go_memstats_heap_released_bytes"
	gomemlimitBytes   = "go_gc_gomemlimit_bytes"
	gomaxprocsThreads = "go_sched_gomaxprocs_threads"
	// runtime/metrics' GC and total CPU, which client_golang exposes when
	// the app enables its runtime/metrics collection.
	gcCPUSeconds    = "go_cpu_classes_gc_total_cpu_seconds_total"
	totalCPUSeconds = "go_cpu_classes_total_cpu_seconds_total"
)

// processClock tells how long the app's process has run, for the GC's CPU
// from expvar's GCCPUFraction (a since-start average): from
// process_start_time_seconds where the app exposes it, else from the first
// sample of the process the sidecar saw. That one starts late by however
// long the process ran unseen, which only pulls the GC's share over a window
// toward its since-start average, never above both.
type processClock struct {
	firstSeen time.Time
}

// uptime returns the process's uptime at t in seconds.
func (c *processClock) uptime(t time.Time, start *float64) float64 {
	if start != nil && *start > 0 {
		return float64(t.UnixNano())/1e9 - *start
	}
	return t.Sub(c.firstSeen).Seconds()
}

// observation picks from a normalized sample (and expvar's GCCPUFraction,
// which client_golang's series lack) what the detectors need.
func (c *processClock) observation(t time.Time, out normalize.Output, expvar *source.ExpvarData) findings.Observation {
	byName := make(map[string]*dto.MetricFamily, len(out.Families))
	for _, f := range out.Families {
		byName[f.GetName()] = f
	}
	o := findings.Observation{
		Time:         t,
		Restarted:    out.Restarted,
		Goroutines:   scalar(byName[normalize.Goroutines]),
		HeapBytes:    scalar(byName[normalize.HeapInuseBytes]),
		GCCPU:        scalar(byName[gcCPUSeconds]),
		AvailableCPU: scalar(byName[totalCPUSeconds]),
		GOMEMLIMIT:   scalar(byName[gomemlimitBytes]),
		GOMAXPROCS:   scalar(byName[gomaxprocsThreads]),
	}
	if o.HeapBytes == nil {
		o.HeapBytes = scalar(byName[normalize.HeapAllocBytes])
	}
	if out.Restarted || c.firstSeen.IsZero() {
		c.firstSeen = t
	}
	if o.GCCPU == nil && expvar != nil {
		// GCCPUFraction is computed at the end of each GC: it times the
		// uptime then, not now, or an app that stops collecting would
		// keep gaining GC time at its old rate. Before the first GC both
		// are 0.
		var up, gc float64
		if last := expvar.MemStats.LastGC; last > 0 {
			up = c.uptime(time.Unix(0, int64(last)), scalar(byName[normalize.ProcessStartTime])) //nolint:gosec // Unix nanoseconds, far below 2^63
			gc = expvar.MemStats.GCCPUFraction * up
		}
		o.GCCPU, o.AvailableCPU = &gc, &up
	}
	if sys, released := scalar(byName[sysBytes]), scalar(byName[heapReleasedBytes]); sys != nil && released != nil {
		held := *sys - *released
		o.RuntimeBytes = &held
	}
	return o
}

// findingMetrics returns gopherscope_finding for the active findings.
func (d healthDescs) findingMetrics(active []findings.Finding) []prometheus.Metric {
	out := make([]prometheus.Metric, len(active))
	for i, f := range active {
		out[i] = prometheus.MustNewConstMetric(d.finding, prometheus.GaugeValue, 1, string(f.Kind), string(f.Severity))
	}
	return out
}

// findingsHandler serves the latest sample's active findings.
func findingsHandler(s *Sampler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !getOrHead(w, r) {
			return
		}
		resp := FindingsResponse{Findings: []findings.Finding{}}
		if snap := s.Latest(); snap != nil && snap.Findings != nil {
			resp.Findings = snap.Findings
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(resp) // The client went away; nothing to do.
	}
}
