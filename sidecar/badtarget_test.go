package sidecar

import (
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gopherscope/gopherscope/sidecar/history"
)

// health returns the sampler's exposition as series -> value.
func health(t *testing.T, s *Sampler) map[string]float64 {
	t.Helper()
	return checkNoDuplicates(t, render(t, s))
}

func TestBadTargetsLeaveTheSidecarUpAndRecover(t *testing.T) {
	good := map[string]http.HandlerFunc{varsPath: fixtureBody(t, "vars.json"), indexPath: fixtureBody(t, "pprof-index.html")}
	fiftyMB := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"x": "`)
		chunk := []byte(strings.Repeat("a", 1<<20))
		for range 50 {
			if _, err := w.Write(chunk); err != nil {
				return // the sidecar hung up at its cap
			}
		}
		_, _ = io.WriteString(w, `"}`)
	}
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
		fixtureBody(t, "vars.json")(w, r)
	}
	tests := []struct {
		name    string
		bad     map[string]http.HandlerFunc
		refused bool
	}{
		{name: "connection refused", refused: true},
		{name: "500s", bad: map[string]http.HandlerFunc{
			varsPath:  func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) },
			indexPath: func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) },
		}},
		{name: "a 50 MB body", bad: map[string]http.HandlerFunc{varsPath: fiftyMB, indexPath: fiftyMB}},
		{name: "invalid JSON and HTML", bad: map[string]http.HandlerFunc{
			varsPath:  body("application/json", []byte(`{"memstats": {"Alloc": tru`)),
			indexPath: body("text/html", []byte(`<html><a href=x>nothing</a>`)),
		}},
		{name: "a slow endpoint past the timeout", bad: map[string]http.HandlerFunc{varsPath: slow, indexPath: slow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := newFakeTarget(t)
			port := target.port()
			if tt.refused {
				target.srv.Close()
			} else {
				target.serve(tt.bad)
			}
			s := NewSampler(testOptions(port, ""), history.New(10), testLogger(t))
			defer s.Close()

			start := time.Now()
			s.SampleOnce(t.Context())
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("a sample took %s, longer than the 1s interval", d)
			}
			got := health(t, s)
			for _, series := range []string{"gopherscope_target_up{}", "gopherscope_source_up{source=expvar}", "gopherscope_source_up{source=pprof}"} {
				if v, ok := got[series]; !ok || v != 0 {
					t.Errorf("%s = %v (present: %v), want 0", series, v, ok)
				}
			}
			if _, ok := got["go_goroutines{}"]; ok {
				t.Error("app series are exposed while the target is down")
			}
			if ok, reason := s.Ready(); ok || reason == "" {
				t.Errorf("ready = %v (%q), want not ready with a reason", ok, reason)
			}

			if tt.refused { // the app comes back on the same port
				ln, err := net.Listen("tcp", target.srv.Listener.Addr().String())
				if err != nil {
					t.Skipf("port %d was taken meanwhile: %v", port, err)
				}
				srv := &http.Server{Handler: target.srv.Config.Handler, ReadHeaderTimeout: time.Second}
				go func() { _ = srv.Serve(ln) }()
				defer func() { _ = srv.Close() }()
			}
			target.serve(good)
			time.Sleep(1100 * time.Millisecond) // past the first backoff (at most one interval)
			s.SampleOnce(t.Context())
			got = health(t, s)
			for _, series := range []string{"gopherscope_target_up{}", "gopherscope_source_up{source=expvar}", "gopherscope_source_up{source=pprof}"} {
				if got[series] != 1 {
					t.Errorf("after recovery %s = %v, want 1", series, got[series])
				}
			}
			if got["go_goroutines{}"] != 1 || got["go_memstats_heap_inuse_bytes{}"] != 1253376 {
				t.Errorf("after recovery goroutines = %v, heap in use = %v; want the fixture's 1 and 1253376", got["go_goroutines{}"], got["go_memstats_heap_inuse_bytes{}"])
			}
			if ok, _ := s.Ready(); !ok {
				t.Error("not ready after the target answered")
			}
		})
	}
}

// TestHugeBodyMemoryStaysBounded measures what a 50 MB answer costs: the
// body is read up to the 8 MiB cap and no further.
func TestHugeBodyMemoryStaysBounded(t *testing.T) {
	target := newFakeTarget(t)
	target.serve(map[string]http.HandlerFunc{varsPath: func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"memstats": {}, "x": [`)
		chunk := []byte(strings.Repeat("1,", 1<<19))
		for range 50 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `1]}`)
	}})
	opts := testOptions(target.port(), "")
	opts.PprofPath = ""
	s := NewSampler(opts, history.New(10), testLogger(t))
	defer s.Close()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s.SampleOnce(t.Context())
	runtime.GC()
	runtime.ReadMemStats(&after)

	if got := health(t, s)["gopherscope_source_up{source=expvar}"]; got != 0 {
		t.Errorf("source up = %v for a body over the cap, want 0", got)
	}
	const mib = 1 << 20
	allocated := after.TotalAlloc - before.TotalAlloc
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("50 MB body: %.1f MiB allocated while reading, %.2f MiB retained", float64(allocated)/mib, float64(retained)/mib)
	if allocated > 24*mib {
		t.Errorf("reading allocated %.1f MiB, want at most 24 MiB for an 8 MiB cap", float64(allocated)/mib)
	}
	if retained > 2*mib {
		t.Errorf("%.2f MiB retained after the sample, want under 2 MiB", float64(retained)/mib)
	}
}
