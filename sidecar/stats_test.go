package sidecar

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/history"
)

func fp(v float64) *float64 { return &v }

func TestStatsRates(t *testing.T) {
	t0 := time.Date(2025, 11, 26, 13, 0, 0, 0, time.UTC)
	// pt is a sample at t0+sec with the two counters (negative: absent).
	pt := func(sec int, alloc, gcs float64) history.Point {
		p := history.Point{Time: t0.Add(time.Duration(sec) * time.Second), TargetUp: true}
		if alloc >= 0 {
			p.AllocBytesTotal = fp(alloc)
		}
		if gcs >= 0 {
			p.GCCount = fp(gcs)
		}
		return p
	}
	restarted := func(p history.Point) history.Point { p.Restarted = true; return p }
	down := func(sec int) history.Point { return history.Point{Time: t0.Add(time.Duration(sec) * time.Second)} }
	tests := []struct {
		name        string
		points      []history.Point
		wantAlloc   *float64
		wantGCs     *float64
		wantWindow  string
		wantNoRates bool
	}{
		{name: "a steady app: growth over the whole window",
			points:    []history.Point{pt(0, 0, 0), pt(10, 1000, 1), pt(20, 3000, 4)},
			wantAlloc: fp(150), wantGCs: fp(0.2), wantWindow: "20s"},
		{name: "samples older than the window do not count",
			points:    []history.Point{pt(0, 0, 0), pt(30, 3000, 3), pt(90, 9000, 9)},
			wantAlloc: fp(100), wantGCs: fp(0.1), wantWindow: "1m0s"},
		{name: "a restart starts the rates afresh",
			points:    []history.Point{pt(0, 0, 0), pt(10, 5000, 5), restarted(pt(20, 5100, 5)), pt(30, 6100, 7)},
			wantAlloc: fp(100), wantGCs: fp(0.2), wantWindow: "10s"},
		{name: "a counter going down without a restart flag also does",
			points:    []history.Point{pt(0, 9000, 9), pt(10, 100, 0), pt(20, 1100, 2)},
			wantAlloc: fp(100), wantGCs: fp(0.2), wantWindow: "10s"},
		{name: "a sample the app did not answer is skipped, the counters span it",
			points:    []history.Point{pt(0, 0, 0), down(10), pt(20, 2000, 2)},
			wantAlloc: fp(100), wantGCs: fp(0.1), wantWindow: "20s"},
		{name: "an app without a GC count has an allocation rate only",
			points:    []history.Point{pt(0, 0, -1), pt(10, 1000, -1)},
			wantAlloc: fp(100), wantWindow: "10s"},
		{name: "a point missing a counter the last one has cannot start the rates",
			points:    []history.Point{pt(0, 0, 0), pt(10, 1000, -1), pt(20, 3000, 2)},
			wantAlloc: fp(150), wantGCs: fp(0.1), wantWindow: "20s"},
		{name: "one sample has no rate", points: []history.Point{pt(0, 100, 1)}, wantNoRates: true},
		{name: "no rate right after a restart", points: []history.Point{pt(0, 0, 0), restarted(pt(10, 100, 1))}, wantNoRates: true},
		{name: "no rate when the app did not answer the last sample", points: []history.Point{pt(0, 0, 0), pt(10, 100, 1), down(20)}, wantNoRates: true},
		{name: "no rate from an app without the counters", points: []history.Point{pt(0, -1, -1), pt(10, -1, -1)}, wantNoRates: true},
		{name: "no rate between samples at the same instant", points: []history.Point{pt(10, 0, 0), pt(10, 100, 1)}, wantNoRates: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alloc, gcs, span, ok := rates(tt.points, rateWindow(10*time.Second))
			if tt.wantNoRates {
				if ok || alloc != nil || gcs != nil {
					t.Errorf("rates = %v, %v over %s; want none", ptrString(alloc), ptrString(gcs), span)
				}
				return
			}
			if !ok || span.String() != tt.wantWindow || !cmp.Equal(alloc, tt.wantAlloc) || !cmp.Equal(gcs, tt.wantGCs) {
				t.Errorf("rates = %v B/s, %v GC/s over %s (ok %v); want %v, %v over %s",
					ptrString(alloc), ptrString(gcs), span, ok, ptrString(tt.wantAlloc), ptrString(tt.wantGCs), tt.wantWindow)
			}
		})
	}
}

func ptrString(v *float64) any {
	if v == nil {
		return "absent"
	}
	return *v
}

// TestStatsOfTheSampledApp samples a target serving expvar and the pprof
// index from the fixtures twice and checks the stats against the
// fixtures' own numbers.
func TestStatsOfTheSampledApp(t *testing.T) {
	target := newFakeTarget(t)
	target.serve(map[string]http.HandlerFunc{varsPath: fixtureBody(t, "vars.json"), indexPath: fixtureBody(t, "pprof-index.html")})
	opts := testOptions(target.port(), "")
	opts.PodNamespace, opts.PodName = "shop", "checkout"
	opts.Limits = findings.Limits{MemoryBytes: 128 << 20}
	ring := history.New(10)
	s := NewSampler(opts, ring, testLogger(t))
	defer s.Close()
	h := statsHandler(s, ring, opts)

	read := func() (api.StatsResponse, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil))
		var out api.StatsResponse
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" || json.Unmarshal(rec.Body.Bytes(), &out) != nil {
			t.Fatalf("stats: %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		return out, rec.Body.String()
	}

	before, raw := read()
	want := `{"namespace":"shop","pod":"checkout","interval":"1s","targetUp":false,"goroutines":null,"threads":null,"heapInuseBytes":null,"heapAllocBytes":null,"allocBytesPerSecond":null,"gcPerSecond":null,"gcPauseP99Seconds":null,"findings":[]}`
	if raw != want || !before.Time.IsZero() {
		t.Errorf("stats before the first sample:\n%s\nwant\n%s", raw, want)
	}

	s.SampleOnce(t.Context())
	first, _ := read()
	var vars struct {
		Memstats struct{ HeapInuse, HeapAlloc float64 }
	}
	if err := json.Unmarshal(readFixture(t, "vars.json"), &vars); err != nil {
		t.Fatal(err)
	}
	// vars.json's five pauses, the longest 916713 ns, which is their 99th percentile.
	if !first.TargetUp || first.Goroutines == nil || *first.Goroutines != 1 || first.Threads == nil || *first.Threads != 6 ||
		!cmp.Equal(first.HeapInuseBytes, &vars.Memstats.HeapInuse) || !cmp.Equal(first.HeapAllocBytes, &vars.Memstats.HeapAlloc) ||
		!cmp.Equal(first.GCPauseP99Seconds, fp(916713e-9)) || first.GCPauseCount != 5 {
		t.Errorf("stats after one sample: %+v", first)
	}
	if first.AllocBytesPerSecond != nil || first.GCPerSecond != nil || first.RateWindow != "" {
		t.Errorf("rates after one sample: %v, %v over %q; want none", ptrString(first.AllocBytesPerSecond), ptrString(first.GCPerSecond), first.RateWindow)
	}
	if len(first.Findings) != 1 || first.Findings[0].Kind != findings.NoGOMEMLIMIT {
		t.Errorf("findings %+v, want no_gomemlimit", first.Findings)
	}

	// The same counters a second later: no allocation, no GC, which is a
	// rate of 0, known.
	time.Sleep(10 * time.Millisecond)
	s.SampleOnce(t.Context())
	second, _ := read()
	if !cmp.Equal(second.AllocBytesPerSecond, fp(0)) || !cmp.Equal(second.GCPerSecond, fp(0)) || second.RateWindow == "" {
		t.Errorf("rates after two samples of the same counters: %v, %v over %q; want 0 and 0", ptrString(second.AllocBytesPerSecond), ptrString(second.GCPerSecond), second.RateWindow)
	}

	// An app that exposes only the pprof index: no heap, no pause.
	target.serve(map[string]http.HandlerFunc{indexPath: fixtureBody(t, "pprof-index.html")})
	time.Sleep(1100 * time.Millisecond) // past the expvar source's backoff
	s.SampleOnce(t.Context())
	third, _ := read()
	if !third.TargetUp || third.Goroutines == nil || third.HeapInuseBytes != nil || third.GCPauseP99Seconds != nil || third.GCPauseCount != 0 || third.AllocBytesPerSecond != nil {
		t.Errorf("stats of a pprof-only sample: %+v", third)
	}
}

// TestStatsPauseP99OfAWrappedBuffer checks the pause percentile against
// vars-wrapped.json's 300 GCs, computed here from its last 256 pauses.
func TestStatsPauseP99OfAWrappedBuffer(t *testing.T) {
	target := newFakeTarget(t)
	target.serve(map[string]http.HandlerFunc{varsPath: fixtureBody(t, "vars-wrapped.json")})
	opts := testOptions(target.port(), "")
	opts.PprofPath = ""
	ring := history.New(10)
	s := NewSampler(opts, ring, testLogger(t))
	defer s.Close()
	got := stats(s.SampleOnce(t.Context()), ring.Points(), opts)

	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", "vars-wrapped.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vars struct {
		Memstats struct {
			NumGC   int
			PauseNs []float64
		}
	}
	if err := json.Unmarshal(b, &vars); err != nil {
		t.Fatal(err)
	}
	if vars.Memstats.NumGC <= 256 {
		t.Fatalf("the fixture has %d GCs; the test needs more than 256", vars.Memstats.NumGC)
	}
	pauses := slices.Sorted(slices.Values(vars.Memstats.PauseNs)) // all 256 entries are of the last 256 GCs
	want := pauses[int(math.Ceil(0.99*256))-1] / 1e9
	if got.GCPauseP99Seconds == nil || *got.GCPauseP99Seconds != want || got.GCPauseCount != 256 {
		t.Errorf("p99 = %v over %d pauses, want %v over 256", ptrString(got.GCPauseP99Seconds), got.GCPauseCount, want)
	}
}
