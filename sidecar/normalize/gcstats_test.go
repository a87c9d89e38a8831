package normalize

import (
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/sidecar/source"
)

// TestPauseQuantilesMatchRuntimeDebug compares PauseQuantiles with the
// runtime's own ReadGCStats on this very process, before and after NumGC
// wraps past the 256 entries of PauseNs.
func TestPauseQuantilesMatchRuntimeDebug(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no GC between the two reads
	for _, gcs := range []int{3, 300} {
		for range gcs {
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		stats := debug.GCStats{PauseQuantiles: make([]time.Duration, 5)}
		debug.ReadGCStats(&stats)
		if uint32(stats.NumGC) != ms.NumGC {
			t.Fatalf("a GC ran between the reads: %d != %d", stats.NumGC, ms.NumGC)
		}
		var want [5]float64
		for i, q := range stats.PauseQuantiles {
			want[i] = q.Seconds()
		}
		got := PauseQuantiles(&source.MemStats{PauseNs: ms.PauseNs, NumGC: ms.NumGC})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("after %d GCs (NumGC %d), quantiles (-runtime/debug +ours):\n%s", gcs, ms.NumGC, diff)
		}
		if gotSum, wantSum := nanosToSeconds(ms.PauseTotalNs), stats.PauseTotal.Seconds(); gotSum != wantSum {
			t.Errorf("sum = %v, want %v", gotSum, wantSum)
		}
	}
}

func TestPauseQuantiles(t *testing.T) {
	// pauses returns a buffer where GC number n (1-based) paused n µs, as
	// the runtime stores them: GC n at index (n-1)%256.
	pauses := func(numGC uint32) source.MemStats {
		ms := source.MemStats{NumGC: numGC}
		for n := uint32(1); n <= numGC; n++ {
			ms.PauseNs[(n-1)%256] = uint64(n) * 1000
		}
		return ms
	}
	us := time.Microsecond
	tests := []struct {
		name string
		ms   source.MemStats
		want [5]time.Duration
	}{
		{name: "no GC yet gives zeros", ms: pauses(0), want: [5]time.Duration{}},
		{name: "one GC is every quantile", ms: pauses(1), want: [5]time.Duration{1 * us, 1 * us, 1 * us, 1 * us, 1 * us}},
		{name: "five GCs", ms: pauses(5), want: [5]time.Duration{1 * us, 2 * us, 3 * us, 4 * us, 5 * us}},
		{name: "a full buffer", ms: pauses(256), want: [5]time.Duration{1 * us, 65 * us, 129 * us, 193 * us, 256 * us}},
		{name: "after wrapping only the last 256 pauses count", ms: pauses(300), want: [5]time.Duration{45 * us, 109 * us, 173 * us, 237 * us, 300 * us}},
		{
			name: "stale entries beyond NumGC are ignored",
			ms:   source.MemStats{NumGC: 2, PauseNs: [256]uint64{0: 10, 1: 20, 2: 999999, 255: 999999}},
			want: [5]time.Duration{10, 10, 20, 20, 20},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want [5]float64
			for i, d := range tt.want {
				want[i] = d.Seconds()
			}
			if diff := cmp.Diff(want, PauseQuantiles(&tt.ms)); diff != "" {
				t.Errorf("quantiles (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPausePercentile(t *testing.T) {
	// pauses returns a buffer where GC number n (1-based) paused n µs.
	pauses := func(numGC uint32) source.MemStats {
		ms := source.MemStats{NumGC: numGC}
		for n := uint32(1); n <= numGC; n++ {
			ms.PauseNs[(n-1)%256] = uint64(n) * 1000
		}
		return ms
	}
	us := time.Microsecond
	tests := []struct {
		name       string
		ms         source.MemStats
		p          float64
		want       time.Duration
		wantPauses int
		wantOK     bool
	}{
		{name: "no GC yet has no percentile", ms: pauses(0), p: 99, wantOK: false},
		{name: "one GC is its own 99th percentile", ms: pauses(1), p: 99, want: 1 * us, wantPauses: 1, wantOK: true},
		{name: "below 100 pauses the 99th percentile is the longest", ms: pauses(50), p: 99, want: 50 * us, wantPauses: 50, wantOK: true},
		{name: "a full buffer: the 254th of 256", ms: pauses(256), p: 99, want: 254 * us, wantPauses: 256, wantOK: true},
		{name: "after wrapping only the last 256 pauses count", ms: pauses(300), p: 99, want: 298 * us, wantPauses: 256, wantOK: true},
		{name: "the 50th percentile of 4", ms: pauses(4), p: 50, want: 2 * us, wantPauses: 4, wantOK: true},
		{name: "a percentile above 100 is none", ms: pauses(4), p: 101, wantPauses: 4, wantOK: false},
		{name: "a percentile of 0 is none", ms: pauses(4), p: 0, wantPauses: 4, wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, ok := PausePercentile(&tt.ms, tt.p)
			if ok != tt.wantOK || n != tt.wantPauses || (ok && got != tt.want.Seconds()) {
				t.Errorf("PausePercentile(%v) = %v, %d, %v; want %v, %d, %v", tt.p, got, n, ok, tt.want.Seconds(), tt.wantPauses, tt.wantOK)
			}
		})
	}
}

// TestPausePercentileMatchesTheRuntimesPauses checks the 99th percentile
// against this process's own pauses, read with runtime/debug.
func TestPausePercentileMatchesTheRuntimesPauses(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no GC between the two reads
	for range 300 {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	stats := debug.GCStats{}
	debug.ReadGCStats(&stats) // Pause: most recent first, at most 256 here
	if uint32(stats.NumGC) != ms.NumGC {
		t.Fatalf("a GC ran between the reads: %d != %d", stats.NumGC, ms.NumGC)
	}
	recent := slices.Clone(stats.Pause[:min(len(stats.Pause), 256)])
	slices.Sort(recent)
	want := recent[int(math.Ceil(0.99*float64(len(recent))))-1].Seconds()
	got, n, ok := PausePercentile(&source.MemStats{PauseNs: ms.PauseNs, NumGC: ms.NumGC}, 99)
	if !ok || n != len(recent) || got != want {
		t.Errorf("p99 = %v over %d pauses (ok %v), want %v over %d", got, n, ok, want, len(recent))
	}
}
