//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// monotonicSeries are the counters of the sidecar's exposition (client_golang
// counters and the count and sum of the GC summary), which must never go
// down, whatever happens to the app.
var monotonicSeries = []string{
	"go_memstats_alloc_bytes_total",
	"go_memstats_mallocs_total",
	"go_memstats_frees_total",
	"go_gc_duration_seconds_count",
	"go_gc_duration_seconds_sum",
	"gopherscope_target_restarts_total",
}

// runningPod is a stored injected pod whose app (the demo app) and sidecar
// run as local processes.
type runningPod struct {
	*localcluster.Pod
	sidecarPid int
	metricsURL string
}

// runInjectedPod creates an injected pod sampled every second and runs it.
func runInjectedPod(t *testing.T, e *env, prefix string) *runningPod {
	t.Helper()
	ns := e.namespace(t, prefix, map[string]string{config.KeyInject: config.InjectEnabled})
	stored := e.create(t, goPod(ns, prefix, nil, map[string]string{config.AnnotationInterval: "1s"}))
	pod := runLocally(t, e, stored)
	r := &runningPod{Pod: pod, metricsURL: pod.URL(9184, sidecarconf.SidecarMetricsPath)}
	r.sidecarPid = pidOf(t, bins["sidecar"], "--"+sidecarconf.FlagListenAddress+"=127.0.0.1:"+strconv.Itoa(pod.LocalPort(9184)))
	if err := pod.Processes[config.SidecarContainerName].WaitReady(t.Context(), pod.URL(9184, sidecarconf.SidecarReadyzPath), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	waitForSeries(t, r.metricsURL, normalizedSeries)
	return r
}

// counterWatch scrapes the sidecar in the background and records every
// counter that went down between two scrapes.
type counterWatch struct {
	mu         sync.Mutex
	prev       localcluster.Samples
	scrapes    int
	violations []string
	stop       func()
}

func watchCounters(t *testing.T, url string, every time.Duration) *counterWatch {
	ctx, cancel := context.WithCancel(t.Context())
	w := &counterWatch{prev: localcluster.Samples{}}
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			if s, err := localcluster.Scrape(ctx, url); err == nil {
				w.observe(s)
			}
			select {
			case <-ctx.Done():
			case <-time.After(every):
			}
		}
	})
	w.stop = func() { cancel(); wg.Wait() }
	return w
}

func (w *counterWatch) observe(s localcluster.Samples) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.scrapes++
	for _, name := range monotonicSeries {
		v, ok := s[name]
		if !ok {
			continue // the app is down: its series are left out
		}
		if p, seen := w.prev[name]; seen && v < p {
			w.violations = append(w.violations, fmt.Sprintf("%s went from %v to %v at scrape %d", name, p, v, w.scrapes))
		}
		w.prev[name] = v
	}
}

// check waits (up to 30 s) until the watch has scraped minScrapes times,
// stops it and fails t on any counter that went down. A fast restart on a
// loaded machine can leave fewer scrapes than that by the time the test
// has seen the restart (CI saw 4 of 5), so the watch goes on past it.
func (w *counterWatch) check(t *testing.T, minScrapes int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		w.mu.Lock()
		enough := w.scrapes >= minScrapes
		w.mu.Unlock()
		if enough {
			break
		}
	}
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, v := range w.violations {
		t.Errorf("a counter went backwards: %s", v)
	}
	if w.scrapes < minScrapes {
		t.Errorf("scraped %d times, want at least %d", w.scrapes, minScrapes)
	}
}

// waitForSample scrapes url until ok accepts the samples (for up to 30 s).
func waitForSample(t *testing.T, url, what string, ok func(localcluster.Samples) bool) localcluster.Samples {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := localcluster.Scrape(t.Context(), url)
		if err == nil && ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen on %s after 30s (last error %v, last samples %v)", what, url, err, s)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func testAppRestartUnderSidecar(t *testing.T, e *env) {
	pod := runInjectedPod(t, e, "app-restart")
	watch := watchCounters(t, pod.metricsURL, 300*time.Millisecond)
	// Allocate and collect, so the restarted app's counters start far below.
	for _, knob := range []string{"/alloc?bytes=32MiB", "/gc", "/gc"} {
		if _, err := localcluster.Do(t.Context(), http.MethodPost, pod.URL(appHTTPPort, knob)); err != nil {
			t.Fatal(err)
		}
	}
	before := waitForSample(t, pod.metricsURL, "the allocation", func(s localcluster.Samples) bool {
		return s["go_memstats_alloc_bytes_total"] >= 32<<20 && s["go_gc_duration_seconds_count"] >= 2
	})
	if before["gopherscope_target_restarts_total"] != 0 {
		t.Fatalf("gopherscope_target_restarts_total = %v before any restart", before["gopherscope_target_restarts_total"])
	}

	app := pod.Processes["app"]
	if err := app.Stop(); err != nil {
		t.Fatalf("stop the app: %v", err)
	}
	if err := app.Start(); err != nil {
		t.Fatalf("start the app again: %v", err)
	}
	after := waitForSample(t, pod.metricsURL, "the restart", func(s localcluster.Samples) bool {
		return s["gopherscope_target_restarts_total"] == 1 && s.Has("go_goroutines")
	})
	time.Sleep(3 * time.Second) // a few more samples of the new process
	watch.check(t, 15)
	for _, name := range monotonicSeries[:4] {
		if after[name] < before[name] {
			t.Errorf("%s = %v after the restart, below the %v before it", name, after[name], before[name])
		}
	}
	t.Logf("before the restart: alloc total %.0f, GCs %.0f; after: %.0f, %.0f, restarts %.0f", before["go_memstats_alloc_bytes_total"],
		before["go_gc_duration_seconds_count"], after["go_memstats_alloc_bytes_total"], after["go_gc_duration_seconds_count"], after["gopherscope_target_restarts_total"])
}

// hostileApp is what answers on the app's debug port instead of the app.
type hostileApp struct {
	name    string
	handler func(w http.ResponseWriter, r *http.Request)
}

func hostileApps() []hostileApp {
	garbage := make([]byte, 256<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	return []hostileApp{
		{name: "an app that hangs", handler: func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
		}},
		{name: "an app that answers garbage", handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", map[bool]string{true: "application/json", false: "text/html"}[strings.HasSuffix(r.URL.Path, "/vars")])
			_, _ = w.Write(garbage)
		}},
		{name: "an app that answers 50 MB", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"memstats": {"Alloc": 1}, "x": "`)
			chunk := []byte(strings.Repeat("a", 1<<20))
			for range 50 {
				if _, err := w.Write(chunk); err != nil {
					return // the sidecar hung up at its cap
				}
			}
			_, _ = io.WriteString(w, `"}`)
		}},
	}
}

func testHostileAppUnderSidecar(t *testing.T, e *env) {
	pod := runInjectedPod(t, e, "hostile-app")
	sidecar := pod.Processes[config.SidecarContainerName]
	watch := watchCounters(t, pod.metricsURL, 500*time.Millisecond)
	limit := config.Default(testVersion).Sidecar.Resources.Limits.Memory().Value()
	start := memoryOf(t, pod.sidecarPid)

	app := pod.Processes["app"]
	if err := app.Stop(); err != nil {
		t.Fatalf("stop the app: %v", err)
	}
	debugAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(pod.LocalPort(appDebugPort)))
	for _, h := range hostileApps() {
		var served atomic.Int64
		ln, err := net.Listen("tcp", debugAddr)
		if err != nil {
			t.Fatalf("%s: listen on the app's port: %v", h.name, err)
		}
		srv := &http.Server{ReadHeaderTimeout: time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served.Add(1)
			h.handler(w, r)
		})}
		go func() { _ = srv.Serve(ln) }()
		// Sources back off while the app fails: wait for the sidecar to
		// come to this server twice, then read what it made of it.
		deadline := time.Now().Add(40 * time.Second)
		for served.Load() < 2 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond) // the request timeout and the next sample
		s := waitForSample(t, pod.metricsURL, h.name+" reported down", func(s localcluster.Samples) bool {
			return s["gopherscope_target_up"] == 0 && !s.Has("go_goroutines")
		})
		_ = srv.Close()
		select {
		case <-sidecar.Exited():
			t.Fatalf("%s: the sidecar exited: %v", h.name, sidecar.ExitError())
		default:
		}
		if _, err := localcluster.Get(t.Context(), pod.URL(9184, sidecarconf.SidecarHealthzPath)); err != nil {
			t.Errorf("%s: the sidecar's /healthz: %v", h.name, err)
		}
		m := memoryOf(t, pod.sidecarPid)
		t.Logf("%s: %d requests served, source up %v/%v; sidecar RSS %.1f MiB, peak %.1f MiB", h.name, served.Load(),
			s[`gopherscope_source_up{source="expvar"}`], s[`gopherscope_source_up{source="pprof"}`], mib(m.rss), mib(m.peak))
		if served.Load() < 2 {
			t.Errorf("%s: the sidecar asked it %d times in 40s, want at least 2", h.name, served.Load())
		}
	}
	end := memoryOf(t, pod.sidecarPid)
	if end.peak >= limit || end.rss >= 32<<20 {
		t.Errorf("sidecar RSS %.1f MiB, peak %.1f MiB (at the start %.1f MiB); want the peak under the container's %.0f MiB limit and RSS under 32 MiB",
			mib(end.rss), mib(end.peak), mib(start.rss), mib(limit))
	}

	if err := app.Start(); err != nil {
		t.Fatalf("start the app again: %v", err)
	}
	waitForSample(t, pod.metricsURL, "the real app back", func(s localcluster.Samples) bool {
		return s["gopherscope_target_up"] == 1 && s.Has("go_goroutines") && s.Has("go_memstats_heap_inuse_bytes")
	})
	watch.check(t, 10)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
