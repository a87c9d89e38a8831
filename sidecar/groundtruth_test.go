package sidecar

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The series DESIGN.md names, by what can provide them.
var (
	memstatsSeries = []string{
		"go_memstats_alloc_bytes", "go_memstats_alloc_bytes_total", "go_memstats_sys_bytes",
		"go_memstats_mallocs_total", "go_memstats_frees_total", "go_memstats_heap_alloc_bytes",
		"go_memstats_heap_sys_bytes", "go_memstats_heap_idle_bytes", "go_memstats_heap_inuse_bytes",
		"go_memstats_heap_released_bytes", "go_memstats_heap_objects", "go_memstats_stack_inuse_bytes",
		"go_memstats_stack_sys_bytes", "go_memstats_mspan_inuse_bytes", "go_memstats_mspan_sys_bytes",
		"go_memstats_mcache_inuse_bytes", "go_memstats_mcache_sys_bytes", "go_memstats_buck_hash_sys_bytes",
		"go_memstats_gc_sys_bytes", "go_memstats_other_sys_bytes", "go_memstats_next_gc_bytes",
	}
	gcSeries           = []string{"go_memstats_last_gc_time_seconds", "go_gc_duration_seconds"}
	countSeries        = []string{"go_goroutines", "go_threads"}
	runtimeOnlySeries  = []string{"go_info", "go_sched_gomaxprocs_threads", "go_gc_gogc_percent", "go_gc_gomemlimit_bytes"}
	healthSeries       = []string{"gopherscope_target_up", "gopherscope_source_up", "gopherscope_scrape_duration_seconds", "gopherscope_target_restarts_total"}
	groundTruthTimeout = 20 * time.Second
)

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// demoApp is cmd/demo-app running as a process.
type demoApp struct {
	proc            *process
	debugPort       int
	appURL          string
	mode            string
	debugAddr, addr string
}

func startDemoApp(t *testing.T, mode string, debugPort, appPort int) *demoApp {
	t.Helper()
	d := &demoApp{debugPort: debugPort, mode: mode,
		debugAddr: fmt.Sprintf("127.0.0.1:%d", debugPort), addr: fmt.Sprintf("127.0.0.1:%d", appPort)}
	d.appURL = "http://" + d.addr
	d.proc = start(t, "demo-app", "--debug-address="+d.debugAddr, "--address="+d.addr, "--mode="+mode)
	waitFor(t, groundTruthTimeout, "the demo app to serve", func() bool {
		code, _ := httpDo(t, http.MethodGet, d.appURL+"/healthz")
		return code == http.StatusOK
	})
	return d
}

// sidecarProcess is cmd/sidecar running as a process.
type sidecarProcess struct {
	proc *process
	url  string
}

func startSidecar(t *testing.T, targetPort int, extra ...string) *sidecarProcess {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	args := append([]string{"--target-ports=" + strconv.Itoa(targetPort), "--interval=1s", "--listen-address=" + addr}, extra...)
	s := &sidecarProcess{proc: start(t, "sidecar", args...), url: "http://" + addr}
	waitFor(t, groundTruthTimeout, "the sidecar to be ready", func() bool {
		code, _ := httpDo(t, http.MethodGet, s.url+"/readyz")
		return code == http.StatusOK
	})
	return s
}

// nextSamples waits until the sidecar has taken n more samples and returns
// the exposition of the last.
func (s *sidecarProcess) nextSamples(t *testing.T, n int) exposition {
	t.Helper()
	last := scrape(t, s.url+"/metrics").series["gopherscope_last_sample_timestamp_seconds"]
	var e exposition
	for range n {
		waitFor(t, groundTruthTimeout, "a new sample", func() bool {
			e = scrape(t, s.url+"/metrics")
			return e.series["gopherscope_last_sample_timestamp_seconds"] > last
		})
		last = e.series["gopherscope_last_sample_timestamp_seconds"]
	}
	return e
}

func within(got, want, tolerance float64) bool { return math.Abs(got-want) <= tolerance }

// between reports whether got lies between a and b (in either order), give
// or take tolerance.
func between(got, a, b, tolerance float64) bool {
	return got >= math.Min(a, b)-tolerance && got <= math.Max(a, b)+tolerance
}

// TestGroundTruth runs the real demo app and the real sidecar binary as
// processes and compares the sidecar's /metrics with what the app reports
// about itself, in each of the app's exposure modes.
func TestGroundTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes")
	}
	tests := []struct {
		mode        string
		sidecarArgs []string
		present     []string
		absent      []string
		heap        bool // the app exposes heap figures
	}{
		{
			mode:    "expvar",
			present: concat(countSeries, memstatsSeries, gcSeries, healthSeries),
			absent:  concat(runtimeOnlySeries, []string{"process_start_time_seconds"}),
			heap:    true,
		},
		{
			mode:        "prometheus",
			sidecarArgs: []string{"--metrics-path=/metrics"},
			present:     concat(countSeries, memstatsSeries, gcSeries, runtimeOnlySeries, healthSeries, []string{"process_start_time_seconds"}),
			heap:        true,
		},
		{
			mode:    "pprof",
			present: concat(countSeries, healthSeries),
			absent:  concat(memstatsSeries, gcSeries, runtimeOnlySeries),
		},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			app := startDemoApp(t, tt.mode, freePort(t), freePort(t))
			sc := startSidecar(t, app.debugPort, tt.sidecarArgs...)
			// The app's own figures are read before and after the samples: the
			// heap moves while they are taken (CI saw HeapSys grow from 7.9 to
			// 12 MB between one sample and a later read), so the sidecar's value
			// must lie between the two reads, give or take a tolerance.
			before := readSelf(t, app.appURL)
			e := sc.nextSamples(t, 2)
			checkWithPromtool(t, e.raw)

			for _, name := range tt.present {
				if !e.has(name) {
					t.Errorf("series %s is missing", name)
				}
			}
			for _, name := range tt.absent {
				if e.has(name) {
					t.Errorf("series %s is present, but mode %s cannot provide it", name, tt.mode)
				}
			}
			for _, name := range e.names {
				if !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") && !strings.HasPrefix(name, "gopherscope_") {
					t.Errorf("series %s is neither the app's runtime nor the sidecar's health", name)
				}
			}
			if e.series["gopherscope_target_up"] != 1 {
				t.Errorf("gopherscope_target_up = %v, want 1", e.series["gopherscope_target_up"])
			}

			// Against the app's own figures, read right after the sample. The
			// sidecar's own requests cost the app a few goroutines; the heap
			// moves a little between the sample and /self.
			me := readSelf(t, app.appURL)
			const goroutineTolerance = 10
			if got := e.series["go_goroutines"]; !within(got, float64(me.Goroutines), goroutineTolerance) {
				t.Errorf("go_goroutines = %v, the app reports %d (tolerance %d)", got, me.Goroutines, goroutineTolerance)
			}
			if got := e.series["go_threads"]; got < 1 || got > float64(me.Threads)+4 {
				t.Errorf("go_threads = %v, the app reports %d", got, me.Threads)
			}
			if tt.heap {
				for _, c := range []struct {
					series   string
					from, to float64
				}{
					{"go_memstats_heap_inuse_bytes", before.HeapInuse, me.HeapInuse},
					{"go_memstats_heap_sys_bytes", before.HeapSys, me.HeapSys},
				} {
					if got := e.series[c.series]; !between(got, c.from, c.to, math.Max(1<<20, 0.25*math.Max(c.from, c.to))) {
						t.Errorf("%s = %v, the app reports %v before the samples and %v after", c.series, got, c.from, c.to)
					}
				}
				if got := e.series["go_gc_duration_seconds_count"]; got > me.NumGC || got < before.NumGC-2 {
					t.Errorf("go_gc_duration_seconds_count = %v, the app reports %v GCs before the samples and %v after", got, before.NumGC, me.NumGC)
				}
			}

			// 500 more goroutines show up as ≈500 more.
			idle := e.series["go_goroutines"]
			if code, body := httpDo(t, http.MethodPost, app.appURL+"/goroutines?n=500"); code != http.StatusOK {
				t.Fatalf("POST /goroutines: %d %s", code, body)
			}
			after := sc.nextSamples(t, 2).series["go_goroutines"]
			const spawnTolerance = 10
			if rise := after - idle; !within(rise, 500, spawnTolerance) {
				t.Errorf("go_goroutines rose by %v (from %v to %v) after 500 goroutines started, want 500±%d", rise, idle, after, spawnTolerance)
			}
			httpDo(t, http.MethodDelete, app.appURL+"/goroutines")

			if rss, ok := sc.proc.rssBytes(); ok {
				t.Logf("sidecar RSS %.1f MiB", float64(rss)/(1<<20))
				if rss > 20<<20 {
					t.Errorf("sidecar RSS %.1f MiB, want under 20 MiB", float64(rss)/(1<<20))
				}
			}
		})
	}
}

// TestGroundTruthAppRestart stops the app and starts it again on the same
// port: the sidecar stays up, reports the target down meanwhile, counts the
// restart and keeps its counters from going backwards.
func TestGroundTruthAppRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes")
	}
	debugPort, appPort := freePort(t), freePort(t)
	app := startDemoApp(t, "expvar", debugPort, appPort)
	sc := startSidecar(t, debugPort)
	// Counters well above what a fresh process has.
	httpDo(t, http.MethodPost, app.appURL+"/alloc?bytes=67108864&keep=false")
	httpDo(t, http.MethodPost, app.appURL+"/gc")
	httpDo(t, http.MethodPost, app.appURL+"/gc")
	before := sc.nextSamples(t, 2)

	app.proc.stop(t)
	down := sc.nextSamples(t, 1)
	if down.series["gopherscope_target_up"] != 0 || down.has("go_goroutines") {
		t.Errorf("while the app is stopped: target_up = %v, go_goroutines present = %v; want 0 and absent",
			down.series["gopherscope_target_up"], down.has("go_goroutines"))
	}

	app = startDemoApp(t, "expvar", debugPort, appPort)
	var after exposition
	waitFor(t, groundTruthTimeout, "the sidecar to see the app again", func() bool {
		after = scrape(t, sc.url+"/metrics")
		return after.series["gopherscope_target_up"] == 1 && after.has("go_memstats_alloc_bytes_total")
	})
	if !sc.proc.running() {
		t.Fatal("the sidecar exited")
	}
	if got := after.series["gopherscope_target_restarts_total"]; got != 1 {
		t.Errorf("gopherscope_target_restarts_total = %v, want 1", got)
	}
	for _, counter := range []string{"go_memstats_alloc_bytes_total", "go_memstats_mallocs_total", "go_memstats_frees_total", "go_gc_duration_seconds_count", "go_gc_duration_seconds_sum"} {
		if after.series[counter] < before.series[counter] {
			t.Errorf("%s went backwards across the restart: %v -> %v", counter, before.series[counter], after.series[counter])
		}
	}
	me := readSelf(t, app.appURL)
	if got, raw := after.series["go_memstats_alloc_bytes_total"], me.TotalAlloc; got < raw+before.series["go_memstats_alloc_bytes_total"]*0.99 {
		t.Errorf("go_memstats_alloc_bytes_total = %v, want the old total %v plus the new process's %v", got, before.series["go_memstats_alloc_bytes_total"], raw)
	}
}

// TestSidecarBinaryIsSmall checks the size of the sidecar as `make build`
// builds it (static, stripped).
func TestSidecarBinaryIsSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	info, err := os.Stat(filepath.Join(binDir(t), "sidecar"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sidecar binary: %.1f MB", float64(info.Size())/1e6)
	if info.Size() > 20e6 {
		t.Errorf("sidecar binary is %.1f MB, want at most 20 MB", float64(info.Size())/1e6)
	}
}
