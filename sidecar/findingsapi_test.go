package sidecar

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/history"
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
