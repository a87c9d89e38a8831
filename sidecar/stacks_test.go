package sidecar

import (
	"expvar"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/history"
)

// leakedInSidecarTest blocks until stop is closed: the stack a leak finding
// must name.
func leakedInSidecarTest(stop <-chan struct{}) { <-stop }

// TestALeakFindingNamesTheLeakingFunctionFromTheAppsProfile runs a sampler
// against this test process's own expvar and net/http/pprof handlers while
// the test leaks goroutines, on a fake clock one second per sample.
func TestALeakFindingNamesTheLeakingFunctionFromTheAppsProfile(t *testing.T) {
	var profileReads, leakProfileReads atomic.Int32
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", expvar.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("debug") == "2" {
			t.Errorf("the sidecar requested %s: a full stack dump, which it must never do", r.URL)
		}
		switch r.URL.Path {
		case "/debug/pprof/goroutine":
			profileReads.Add(1)
		case "/debug/pprof/goroutineleak":
			leakProfileReads.Add(1)
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	stop := make(chan struct{})
	var leaked sync.WaitGroup
	t.Cleanup(func() { close(stop); leaked.Wait() })
	leak := func(n int) {
		for range n {
			leaked.Go(func() { leakedInSidecarTest(stop) })
		}
	}

	opts := testOptions(srv.Listener.Addr().(*net.TCPAddr).Port, "")
	var err error
	if opts.Findings, err = findings.ParseOptions("leak-window=1s,leak-windows=3,leak-min-growth=20"); err != nil {
		t.Fatal(err)
	}
	s := NewSampler(opts, history.New(100), testLogger(t))
	t.Cleanup(s.Close)
	now := time.Now()
	s.now = func() time.Time { return now }
	sample := func() *Snapshot {
		snap := s.SampleOnce(t.Context())
		now = now.Add(time.Second)
		return snap
	}

	var named findings.Finding
	for i := range 20 {
		leak(15)
		for _, f := range sample().Findings {
			if f.Kind == findings.GoroutineLeak && len(f.Stacks) > 0 {
				named = f
			}
		}
		if named.Kind != "" {
			t.Logf("stacks named after %d samples", i+1)
			break
		}
	}
	if named.Kind == "" {
		t.Fatalf("no leak finding with stacks after 20 samples of 15 more goroutines each; latest: %+v", s.Latest().Findings)
	}
	top := named.Stacks[0]
	if !strings.HasSuffix(top.Function, "sidecar.leakedInSidecarTest") || top.Count < 20 {
		t.Errorf("first stack %+v, want leakedInSidecarTest holding the growth", top)
	}
	if !strings.Contains(top.Frames[0], "stacks_test.go:") {
		t.Errorf("frames %q, want file:line", top.Frames)
	}

	// The leak goes on for another minute of samples: the profile is not
	// read again within 10 minutes, and a 404 for the leak profile is asked once.
	for range 60 {
		leak(15)
		sample()
	}
	if n := profileReads.Load(); n != 1 {
		t.Errorf("goroutine profile read %d times in a minute, want once", n)
	}
	if n := leakProfileReads.Load(); n > 1 {
		t.Errorf("goroutine leak profile asked %d times, want at most once", n)
	}
	if f := s.Latest().Findings; len(f) == 0 || f[0].Kind != findings.GoroutineLeak || len(f[0].Stacks) == 0 {
		t.Errorf("latest findings %+v, want the leak, still naming its stacks", f)
	}
}
