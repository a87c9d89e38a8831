package sidecar

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/sidecar/history"
)

// The sidecar links no k8s.io code, so it spells the annotations the page
// names itself: they must be the ones the injector reads.
func TestTheAnnotationsThePageNamesAreTheInjectors(t *testing.T) {
	for got, want := range map[string]string{
		annotationPort: config.AnnotationPort, annotationExpvarPath: config.AnnotationExpvarPath,
		annotationPprofPath: config.AnnotationPprofPath, annotationMetricsPath: config.AnnotationMetricsPath,
	} {
		if got != want {
			t.Errorf("the sidecar names %q, the injector reads %q", got, want)
		}
	}
}

// sourcesOf samples once and returns what GET /api/v1/sources serves.
func sourcesOf(t *testing.T, opts Options) SourcesResponse {
	t.Helper()
	s := NewSampler(opts, history.New(10), testLogger(t))
	defer s.Close()
	s.SampleOnce(t.Context())
	rec := httptest.NewRecorder()
	NewMux(s, history.New(1), opts, testLogger(t)).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, SourcesPath, nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s = %d %q, want 200 JSON", SourcesPath, rec.Code, rec.Header().Get("Content-Type"))
	}
	var resp SourcesResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return resp
}

func TestSourcesSayWhyAnEndpointFailsAndWhichAnnotationFixesIt(t *testing.T) {
	refused := newFakeTarget(t)
	refusedPort := refused.port()
	refused.srv.Close()

	onlyExpvar := newFakeTarget(t)
	onlyExpvar.serve(map[string]http.HandlerFunc{varsPath: fixtureBody(t, "vars.json")})

	garbage := newFakeTarget(t)
	garbage.serve(map[string]http.HandlerFunc{
		varsPath:   body("application/json", []byte(`{"memstats": tru`)),
		indexPath:  fixtureBody(t, "pprof-index.html"),
		"/metrics": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusForbidden) },
	})

	type want struct {
		up          bool
		reason, fix string
	}
	tests := []struct {
		name     string
		opts     Options
		targetUp bool
		want     map[string]want
	}{
		{
			name: "nothing listens on the debug port: connection refused, and the port annotation",
			opts: testOptions(refusedPort, ""),
			want: map[string]want{
				"expvar": {reason: "connection refused on :" + strconv.Itoa(refusedPort) + "/debug/vars", fix: "set the pod annotation gopherscope.io/port"},
				"pprof":  {reason: "connection refused on :" + strconv.Itoa(refusedPort) + "/debug/pprof", fix: `import _ "net/http/pprof"`},
			},
		},
		{
			name:     "an app with expvar and no pprof: pprof is 404, and the pprof-path annotation",
			opts:     testOptions(onlyExpvar.port(), ""),
			targetUp: true,
			want: map[string]want{
				"expvar": {up: true},
				"pprof":  {reason: "HTTP 404 on :" + strconv.Itoa(onlyExpvar.port()) + "/debug/pprof", fix: "set the pod annotation gopherscope.io/pprof-path"},
			},
		},
		{
			name:     "an endpoint that answers with something else, and one that refuses",
			opts:     testOptions(garbage.port(), "/metrics"),
			targetUp: true,
			want: map[string]want{
				"expvar":     {reason: "unreadable answer on :" + strconv.Itoa(garbage.port()) + "/debug/vars", fix: "gopherscope.io/expvar-path"},
				"pprof":      {up: true},
				"prometheus": {reason: "HTTP 403 on :" + strconv.Itoa(garbage.port()) + "/metrics", fix: "gopherscope.io/metrics-path"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := sourcesOf(t, tt.opts)
			if resp.TargetUp != tt.targetUp {
				t.Errorf("targetUp = %v, want %v", resp.TargetUp, tt.targetUp)
			}
			got := map[string]want{}
			for _, s := range resp.Sources {
				got[s.Source] = want{up: s.Up, reason: s.Reason, fix: s.Fix}
				if !s.Up && s.Error == "" {
					t.Errorf("%s is down without its full error", s.Source)
				}
			}
			if diff := cmp.Diff(keysOf(tt.want), keysOf(got)); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
			for name, w := range tt.want {
				g := got[name]
				if g.up != w.up || g.reason != w.reason || !strings.Contains(g.fix, w.fix) {
					t.Errorf("%s: up %v, reason %q, fix %q; want up %v, reason %q, a fix containing %q", name, g.up, g.reason, g.fix, w.up, w.reason, w.fix)
				}
			}
		})
	}
}

func TestSourcesBeforeTheFirstSampleAreAnEmptyList(t *testing.T) {
	opts := testOptions(1, "")
	s := NewSampler(opts, history.New(10), testLogger(t))
	defer s.Close()
	rec := httptest.NewRecorder()
	NewMux(s, history.New(1), opts, testLogger(t)).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, SourcesPath, nil))
	if got := strings.TrimSpace(rec.Body.String()); got != `{"targetUp":false,"sources":[]}` {
		t.Errorf("GET %s before a sample = %s", SourcesPath, got)
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
