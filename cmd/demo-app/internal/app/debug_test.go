package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDebugHandlerExposesExactlyTheModesEndpoints checks what each mode
// serves and that it serves nothing of the other modes.
func TestDebugHandlerExposesExactlyTheModesEndpoints(t *testing.T) {
	type probe struct {
		path   string
		status int
		marker string // in the body when status is 200
	}
	expvar := []probe{{"/debug/vars", 200, `"memstats": {`}}
	pprof := []probe{
		{"/debug/pprof/", 200, "goroutine"},
		{"/debug/pprof/goroutine?debug=1", 200, "goroutine profile: total"},
		{"/debug/pprof/threadcreate?debug=1", 200, "threadcreate profile: total"},
		{"/debug/pprof/cmdline", 200, "app.test"},
		{"/debug/pprof/symbol", 200, "num_symbols"},
		{"/debug/pprof/profile?seconds=1", 200, ""},
		{"/debug/pprof/trace?seconds=1", 200, ""},
	}
	metrics := []probe{{"/metrics", 200, "go_goroutines "}}
	absent := func(ps []probe) []probe {
		out := make([]probe, len(ps))
		for i, p := range ps {
			out[i] = probe{path: p.path, status: http.StatusNotFound}
		}
		return out
	}
	tests := []struct {
		mode   Mode
		probes [][]probe
	}{
		{mode: ModeExpvar, probes: [][]probe{expvar, pprof, absent(metrics)}},
		{mode: ModePrometheus, probes: [][]probe{metrics, absent(expvar), absent(pprof)}},
		{mode: ModePprof, probes: [][]probe{pprof, absent(expvar), absent(metrics)}},
	}
	for _, tt := range tests {
		t.Run("mode "+string(tt.mode), func(t *testing.T) {
			h, err := NewDebugHandler(tt.mode, false)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close) // after the parallel subtests
			for _, group := range tt.probes {
				for _, p := range group {
					t.Run(p.path, func(t *testing.T) {
						t.Parallel()
						status, body := httpGet(t, srv.URL+p.path)
						if status != p.status {
							t.Fatalf("GET %s = %d, want %d", p.path, status, p.status)
						}
						if p.marker != "" && !strings.Contains(body, p.marker) {
							t.Errorf("GET %s body does not contain %q; it starts %.200q", p.path, p.marker, body)
						}
					})
				}
			}
		})
	}
}

func TestPrometheusModeServesTheGoAndProcessCollectors(t *testing.T) {
	h, err := NewDebugHandler(ModePrometheus, false)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	_, body := httpGet(t, srv.URL+"/metrics")
	for _, name := range []string{
		"go_goroutines", "go_threads", "go_memstats_heap_inuse_bytes", "go_memstats_alloc_bytes_total",
		`go_gc_duration_seconds{quantile="0.5"}`, "go_gc_duration_seconds_count", "go_info{version=",
		"go_sched_gomaxprocs_threads", "go_gc_gogc_percent", "go_gc_gomemlimit_bytes",
		"process_resident_memory_bytes", "process_start_time_seconds", "promhttp_metric_handler_requests_total",
	} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

func TestNewDebugHandlerRefusesAnUnknownMode(t *testing.T) {
	if _, err := NewDebugHandler("grpc", false); err == nil || !strings.Contains(err.Error(), `mode "grpc"`) {
		t.Errorf("NewDebugHandler(grpc) error = %v, want one naming the mode", err)
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

func TestPrometheusModeServesTheCPUClassesOnlyWhenAsked(t *testing.T) {
	for _, cpuMetrics := range []bool{false, true} {
		h, err := NewDebugHandler(ModePrometheus, cpuMetrics)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		_, body := httpGet(t, srv.URL+"/metrics")
		srv.Close()
		for _, name := range []string{"go_cpu_classes_gc_total_cpu_seconds_total ", "go_cpu_classes_total_cpu_seconds_total "} {
			if got := strings.Contains(body, "\n"+name); got != cpuMetrics {
				t.Errorf("with cpuMetrics %v, /metrics has %s: %v", cpuMetrics, name, got)
			}
		}
	}
}
