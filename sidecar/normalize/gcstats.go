package normalize

import (
	"math"
	"slices"
	"time"

	"github.com/gopherscope/gopherscope/sidecar/source"
)

// pauseBufferLen is the length of runtime.MemStats.PauseNs.
const pauseBufferLen = len(source.MemStats{}.PauseNs)

// recentPauses returns the app's last min(NumGC, 256) GC pauses from the
// circular PauseNs buffer (the most recent at (NumGC-1)%256), sorted, in
// buf.
func recentPauses(ms *source.MemStats, buf *[pauseBufferLen]time.Duration) []time.Duration {
	n := min(ms.NumGC, uint32(pauseBufferLen))
	sorted := buf[:n]
	for i := range n {
		j := (ms.NumGC - 1 - i) % uint32(pauseBufferLen)
		// The same uint64 -> Duration conversion as the runtime's.
		sorted[i] = time.Duration(ms.PauseNs[j]) //nolint:gosec // mirrors runtime/debug exactly
	}
	slices.Sort(sorted)
	return sorted
}

// PausePercentile returns the p-th percentile (0 < p <= 100, nearest rank)
// of the app's last min(NumGC, 256) GC pauses in seconds, and how many
// pauses that is; with no GC yet, ok is false.
func PausePercentile(ms *source.MemStats, p float64) (seconds float64, pauses int, ok bool) {
	var buf [pauseBufferLen]time.Duration
	sorted := recentPauses(ms, &buf)
	if len(sorted) == 0 || math.IsNaN(p) || p <= 0 || p > 100 {
		return 0, len(sorted), false
	}
	// Nearest rank: the smallest pause with at least p% of them at or below it.
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[rank-1].Seconds(), len(sorted), true
}

// PauseQuantiles returns the minimum, 25th, 50th and 75th percentile and the
// maximum of the app's recent GC pauses, in seconds, computed exactly as
// runtime/debug.ReadGCStats computes its PauseQuantiles (which client_golang
// exposes as go_gc_duration_seconds): the last min(NumGC, 256) entries of
// the circular PauseNs buffer (the most recent at (NumGC-1)%256), sorted;
// quantile i of 4 is sorted[len*i/4] and the maximum is the last element.
// With no GC yet every quantile is 0.
func PauseQuantiles(ms *source.MemStats) [5]float64 {
	var q [5]float64
	var buf [pauseBufferLen]time.Duration
	sorted := recentPauses(ms, &buf)
	if len(sorted) == 0 {
		return q
	}
	const nq = len(q) - 1
	for i := range nq {
		q[i] = sorted[len(sorted)*i/nq].Seconds()
	}
	q[nq] = sorted[len(sorted)-1].Seconds()
	return q
}

// nanosToSeconds converts a nanosecond count as time.Duration.Seconds does,
// which is how client_golang converts PauseTotal.
func nanosToSeconds(ns uint64) float64 {
	return time.Duration(ns).Seconds() //nolint:gosec // mirrors client_golang's conversion exactly
}
