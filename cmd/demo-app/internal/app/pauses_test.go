package app

import (
	"math"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPauseTotal(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name string
		h    metrics.Float64Histogram
		want PauseTotal
	}{
		{name: "an empty histogram has no pauses", h: metrics.Float64Histogram{Counts: []uint64{0, 0}, Buckets: []float64{0, 1, 2}}},
		{
			name: "closed buckets count between their bounds",
			h:    metrics.Float64Histogram{Counts: []uint64{2, 3}, Buckets: []float64{0, 1, 3}},
			want: PauseTotal{Count: 5, Seconds: 2*0.5 + 3*2, MinSeconds: 3 * 1, MaxSeconds: 2*1 + 3*3},
		},
		{
			name: "a bucket open below counts from zero and one open above at its bound",
			h:    metrics.Float64Histogram{Counts: []uint64{1, 2, 4}, Buckets: []float64{-inf, 1, 2, inf}},
			want: PauseTotal{Count: 7, Seconds: 1*1 + 2*1.5 + 4*2, MinSeconds: 0 + 2*1 + 4*2, MaxSeconds: 1*1 + 2*2 + 4*2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, pauseTotal(&tt.h)); diff != "" {
				t.Errorf("pauseTotal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadPausesCountsRealPauses(t *testing.T) {
	before := ReadPauses()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms) // one "other" pause
	runtime.GC()              // two GC pauses: sweep termination and mark termination
	after := ReadPauses()
	if got := after.Other.Count - before.Other.Count; got < 1 {
		t.Errorf("other pauses grew by %d around runtime.ReadMemStats, want at least 1", got)
	}
	if got := after.GC.Count - before.GC.Count; got < 2 {
		t.Errorf("GC pauses grew by %d around runtime.GC, want at least 2", got)
	}
	for name, total := range map[string]PauseTotal{"gc": after.GC, "other": after.Other} {
		if total.Seconds <= 0 || total.MinSeconds > total.Seconds || total.Seconds > total.MaxSeconds {
			t.Errorf("%s pauses: want 0 < min %g <= midpoints %g <= max %g", name, total.MinSeconds, total.Seconds, total.MaxSeconds)
		}
	}
}

func TestReadPausesDoesNotStopTheWorld(t *testing.T) {
	// Other pauses come from anything in the process; the test's own
	// goroutines are idle, so a few reads must not add one per read.
	before := ReadPauses()
	const reads = 100
	for range reads {
		ReadPauses()
	}
	after := ReadPauses()
	if got := after.Other.Count - before.Other.Count; got >= reads {
		t.Errorf("%d reads added %d other pauses: reading stops the world", reads, got)
	}
}

func TestPausesEndpointAnswersWithBothHistograms(t *testing.T) {
	srv := appServer(t)
	if code, _ := call(t, "POST", srv.URL+"/gc"); code != 200 {
		t.Fatalf("POST /gc: status %d", code)
	}
	code, body := call(t, "GET", srv.URL+"/pauses")
	if code != 200 {
		t.Fatalf("GET /pauses: status %d", code)
	}
	for _, kind := range []string{"gc", "other"} {
		total, ok := body[kind].(map[string]any)
		if !ok {
			t.Fatalf("GET /pauses: no %q object in %v", kind, body)
		}
		// POST /gc ran runtime.GC (two GC pauses) and ReadSelf's
		// runtime.ReadMemStats (one other pause).
		if n, _ := total["count"].(float64); n < 1 {
			t.Errorf("GET /pauses: %s count %v, want at least 1", kind, total["count"])
		}
		if s, _ := total["seconds"].(float64); s <= 0 {
			t.Errorf("GET /pauses: %s seconds %v, want more than 0", kind, total["seconds"])
		}
	}
}
