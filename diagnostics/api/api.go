// Package api holds what the diagnostics API's clients and servers share:
// its group and version, the paths of a pod's resources, and the JSON
// bodies of the resources the sidecar answers itself (stats, history). It
// imports nothing of Kubernetes, so the command line and the sidecar stay
// small.
package api

import (
	"net/url"
	"time"

	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/history"
)

// The API's group and version, and the APIService that registers them.
const (
	Group       = "diagnostics.gopherscope.io"
	Version     = "v1alpha1"
	APIService  = Version + "." + Group
	VersionPath = "/apis/" + Group + "/" + Version
)

// The pod resources. Stats and History are answered by the sidecar from
// its own samples; the others are the app's net/http/pprof profiles,
// forwarded by the sidecar.
const (
	Stats     = "stats"
	History   = "history"
	Profile   = "profile"
	Trace     = "trace"
	Heap      = "heap"
	Allocs    = "allocs"
	Goroutine = "goroutine"
	Mutex     = "mutex"
	Block     = "block"
)

// PodPath is the API path of a pod's resource, with query (nil: none).
func PodPath(namespace, pod, resource string, query url.Values) string {
	p := VersionPath + "/namespaces/" + url.PathEscape(namespace) + "/pods/" + url.PathEscape(pod) + "/" + resource
	if len(query) > 0 {
		p += "?" + query.Encode()
	}
	return p
}

// StatsResponse is the body of a pod's stats: the latest sample, rates over
// the recent samples, and the active findings. A figure the app does not
// expose is absent (null), never zero.
type StatsResponse struct {
	// Namespace and Pod name the pod.
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	// Interval is the sampling interval, as a Go duration ("10s").
	Interval string `json:"interval"`
	// Time is when the latest sample was taken (zero before the first).
	Time time.Time `json:"time,omitzero"`
	// TargetUp says whether the app answered the latest sample.
	TargetUp bool `json:"targetUp"`
	// Goroutines, Threads and the heap figures are the latest sample's;
	// absent when the app does not expose them or did not answer it.
	Goroutines     *float64 `json:"goroutines"`
	Threads        *float64 `json:"threads"`
	HeapInuseBytes *float64 `json:"heapInuseBytes"`
	HeapAllocBytes *float64 `json:"heapAllocBytes"`
	// AllocBytesPerSecond and GCPerSecond are the growth of the app's
	// allocation and GC counters over RateWindow, as a Go duration: the
	// span from the earliest sample of the last minute (or two intervals,
	// if longer) after the app's last restart to the latest sample. They
	// are absent when the latest sample has no answer or no such counter,
	// or no earlier sample is usable (just started or restarted).
	AllocBytesPerSecond *float64 `json:"allocBytesPerSecond"`
	GCPerSecond         *float64 `json:"gcPerSecond"`
	RateWindow          string   `json:"rateWindow,omitempty"`
	// GCPauseP99Seconds is the 99th percentile (nearest rank) of the
	// app's last GCPauseCount GC pauses: at most 256, the ones
	// runtime.MemStats keeps, however long ago they were. It comes from
	// the app's expvar memstats, so it is absent for an app that does not
	// publish them (client_golang's go_gc_duration_seconds has only the
	// quartiles) and before its first GC. Below 100 pauses it is the
	// longest of them.
	GCPauseP99Seconds *float64 `json:"gcPauseP99Seconds"`
	GCPauseCount      int      `json:"gcPauseCount,omitempty"`
	// Findings are the active findings, sorted by kind, as the sidecar's
	// /api/v1/findings serves them; never null.
	Findings []findings.Finding `json:"findings"`
}

// HistoryResponse is the body of a pod's history: the sidecar's ring of
// recent samples.
type HistoryResponse = history.Response
