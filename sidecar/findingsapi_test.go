package sidecar

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"

	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/history"
	"github.com/gopherscope/gopherscope/sidecar/normalize"
	"github.com/gopherscope/gopherscope/sidecar/source"
)

// findingsAfterOneSample samples target once with limits and returns the
// /metrics body and what GET /api/v1/findings serves.
func findingsAfterOneSample(t *testing.T, opts Options) ([]byte, FindingsResponse) {
	t.Helper()
	s := NewSampler(opts, history.New(10), testLogger(t))
	defer s.Close()
	s.SampleOnce(t.Context())
	rec := httptest.NewRecorder()
	NewMux(s, history.New(1), opts, testLogger(t)).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, FindingsPath, nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %q, want 200 JSON", FindingsPath, rec.Code, rec.Header().Get("Content-Type"))
	}
	var resp FindingsResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return render(t, s), resp
}

// findingLines are the gopherscope_finding sample lines of an exposition.
func findingLines(exposition []byte) []string {
	var out []string
	for line := range strings.Lines(string(exposition)) {
		if strings.HasPrefix(line, "gopherscope_finding{") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

func TestFindingsAreServedAsSeriesAndJSON(t *testing.T) {
	target := newFakeTarget(t)
	target.serve(map[string]http.HandlerFunc{metricsPath: fixtureBody(t, "client-golang.prom"), varsPath: fixtureBody(t, "vars.json")})

	tests := []struct {
		name      string
		metrics   string // the sidecar's metrics path
		limits    findings.Limits
		wantLines []string
		wantKinds []findings.Kind
	}{
		{
			name:      "no known limit raises nothing",
			metrics:   metricsPath,
			wantLines: nil,
		},
		{
			name:    "an app reporting no GOMEMLIMIT and GOMAXPROCS 2 under a memory limit and 1 CPU on a 1 CPU node",
			metrics: metricsPath,
			limits:  findings.Limits{MemoryBytes: 128 << 20, CPU: 1, NumCPU: 1},
			wantLines: []string{
				`gopherscope_finding{kind="gomaxprocs_above_cpu_limit",severity="warning"} 1`,
				`gopherscope_finding{kind="no_gomemlimit",severity="warning"} 1`,
			},
			wantKinds: []findings.Kind{findings.GOMAXPROCSAboveCPULimit, findings.NoGOMEMLIMIT},
		},
		{
			name:      "an expvar-only app under a memory limit gets the unverified hint",
			limits:    findings.Limits{MemoryBytes: 128 << 20, CPU: 1, NumCPU: 1},
			wantLines: []string{`gopherscope_finding{kind="no_gomemlimit",severity="info"} 1`},
			wantKinds: []findings.Kind{findings.NoGOMEMLIMIT},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(target.port(), tt.metrics)
			opts.Limits = tt.limits
			exposition, resp := findingsAfterOneSample(t, opts)
			if diff := cmp.Diff(tt.wantLines, findingLines(exposition)); diff != "" {
				t.Errorf("gopherscope_finding series (-want +got):\n%s", diff)
			}
			var kinds []findings.Kind
			for _, f := range resp.Findings {
				kinds = append(kinds, f.Kind)
				if f.Advice == "" || len(f.Evidence.Figures) == 0 || f.Since.IsZero() {
					t.Errorf("%s: want advice, evidence and since, got %+v", f.Kind, f)
				}
			}
			if diff := cmp.Diff(tt.wantKinds, kinds); diff != "" {
				t.Errorf("findings in JSON (-want +got):\n%s", diff)
			}
			if resp.Findings == nil {
				t.Error("findings is null, want a list")
			}
			if len(tt.wantLines) > 0 {
				checkWithPromtool(t, exposition)
			}
		})
	}
}

func TestFindingsStayWhileTheAppDoesNotAnswer(t *testing.T) {
	target := newFakeTarget(t)
	target.serve(map[string]http.HandlerFunc{metricsPath: fixtureBody(t, "client-golang.prom")})
	opts := testOptions(target.port(), metricsPath)
	opts.ExpvarPath, opts.PprofPath = "", ""
	opts.Limits = findings.Limits{MemoryBytes: 128 << 20}
	s := NewSampler(opts, history.New(10), testLogger(t))
	defer s.Close()
	if snap := s.SampleOnce(t.Context()); len(snap.Findings) != 1 {
		t.Fatalf("findings %+v, want no_gomemlimit", snap.Findings)
	}
	target.srv.Close()
	snap := s.SampleOnce(t.Context())
	if snap.TargetUp || len(snap.Findings) != 1 || snap.Findings[0].Kind != findings.NoGOMEMLIMIT {
		t.Errorf("target up %v with findings %+v, want down with no_gomemlimit kept", snap.TargetUp, snap.Findings)
	}
}

func TestInvalidFindingThresholdsFailValidation(t *testing.T) {
	opts := DefaultOptions()
	opts.Findings.GCShare = 2
	opts.Limits.CPU = -1
	err := opts.Validate()
	if err == nil || !strings.Contains(err.Error(), "findings: GC share") || !strings.Contains(err.Error(), "must not be negative") {
		t.Errorf("got %v, want the GC share and the negative limit named", err)
	}
}

// gcShareOverWindows feeds a Set expvar samples, one a second for d, of an
// app that started unseen before the first and whose GC takes 2% of its
// CPU, then share from the second minute on; it returns the GC share the
// finding reports, or false.
func gcShareOverWindows(t *testing.T, unseen time.Duration, share float64, d time.Duration, startTime bool) (float64, bool) {
	t.Helper()
	set, err := findings.New(findings.DefaultOptions(), findings.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var clock processClock
	start := time.Date(2026, 12, 3, 3, 0, 0, 0, time.UTC)
	first := start.Add(unseen)
	gcSeconds := 0.02 * unseen.Seconds()
	var active []findings.Finding
	for at := time.Duration(0); at < d; at += time.Second {
		if at >= time.Minute {
			gcSeconds += share
		} else {
			gcSeconds += 0.02
		}
		now := first.Add(at)
		uptime := now.Sub(start).Seconds()
		var out normalize.Output
		if startTime {
			startSeconds, gauge := float64(start.Unix()), dto.MetricType_GAUGE
			name := normalize.ProcessStartTime
			out.Families = []*dto.MetricFamily{{Name: &name, Type: &gauge, Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: &startSeconds}}}}}
		}
		// A GC ends every second, and GCCPUFraction is computed then.
		expvar := &source.ExpvarData{MemStats: source.MemStats{GCCPUFraction: gcSeconds / uptime, LastGC: uint64(now.UnixNano())}}
		active = set.Observe(clock.observation(now, out, expvar))
	}
	for _, f := range active {
		if f.Kind == findings.GCPressure {
			for _, fig := range f.Evidence.Figures {
				if fig.Name == "GC share of CPU" {
					return fig.Value, true
				}
			}
		}
	}
	return 0, false
}

// TestNoGCPressureFromExpvarOnceTheGCStops: an app that churned (9% of its
// CPU since its start went to the GC) and then stops collecting keeps
// reporting that fraction; the sidecar, started after the churn and
// without the app's start time, must not take it as GC time still spent.
func TestNoGCPressureFromExpvarOnceTheGCStops(t *testing.T) {
	opts := findings.DefaultOptions()
	opts.GCShare = 0.05 // under the stale fraction, which would pass it
	set, err := findings.New(opts, findings.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var clock processClock
	lastGC := time.Date(2026, 12, 3, 3, 0, 20, 0, time.UTC)
	expvar := &source.ExpvarData{MemStats: source.MemStats{GCCPUFraction: 0.0919, LastGC: uint64(lastGC.UnixNano()), NumGC: 111}}
	for at := time.Duration(0); at < 5*time.Minute; at += time.Second {
		for _, f := range set.Observe(clock.observation(lastGC.Add(time.Second+at), normalize.Output{}, expvar)) {
			if f.Kind == findings.GCPressure {
				t.Fatalf("GC pressure raised %s in, with no GC running: %+v", at, f.Evidence)
			}
		}
	}
}

func TestGCPressureFromExpvarsSinceStartFraction(t *testing.T) {
	tests := []struct {
		name      string
		unseen    time.Duration
		startTime bool
		wantLow   float64 // the lowest share reported for a GC at 50%; 0: none need be
	}{
		{name: "the sidecar sees the app from its start", unseen: 3 * time.Second, wantLow: 0.49},
		{name: "the app's start time is exposed", unseen: time.Hour, startTime: true, wantLow: 0.49},
		{name: "the app ran an hour unseen (the sidecar restarted)", unseen: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, quiet := range []float64{0.02, 0.15} {
				if got, ok := gcShareOverWindows(t, tt.unseen, quiet, 10*time.Minute, tt.startTime); ok {
					t.Errorf("a steady GC at %g raised GC pressure at %g", quiet, got)
				}
			}
			got, ok := gcShareOverWindows(t, tt.unseen, 0.5, 4*time.Minute, tt.startTime)
			if tt.wantLow == 0 {
				if ok && got > 0.51 {
					t.Errorf("GC share %g for a GC at 50%%: the estimate must never exceed it", got)
				}
				return
			}
			if !ok || got < tt.wantLow || got > 0.51 {
				t.Errorf("GC pressure raised %v at %g for a GC at 50%%, want in [%g, 0.51]", ok, got, tt.wantLow)
			}
		})
	}
}
