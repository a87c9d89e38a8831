package main

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// Targets of issue 5 for the sidecar, and the sampling interval measured.
const (
	rssTarget        = 15 << 20
	cpuTarget        = 500 * time.Microsecond
	binaryTarget     = 20_000_000
	scrapersRatioTol = 0.05
	sampleInterval   = time.Second
	sidecarWarmup    = 5 * time.Second
	manyScrapers     = 10
)

// window is what one measurement window saw.
type window struct {
	samples      int // sidecar samples, or scrapes of the app itself
	scrapes      int
	scrapeErrors int
	other, gc    rig.PauseTotal // the app's pauses in the window
	usage        rig.Span       // the sidecar's /proc readings
}

// perSample divides by the samples (0 without any).
func (w window) perSample(v float64) float64 {
	if w.samples == 0 {
		return 0
	}
	return v / float64(w.samples)
}

// benchSidecar measures bin/sidecar against the demo app and the app
// scraped directly through client_golang.
func benchSidecar(ctx context.Context, opts *options, workDir string, benches map[string]goBench, t *table, logf func(string, ...any)) error {
	if err := os.MkdirAll(workDir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", workDir, err)
	}
	binaryRow(t, filepath.Join(opts.RepoRoot, "bin", "sidecar"))
	if b, ok := benches["BenchmarkMetricsRender"]; ok {
		t.add(row{group: "sidecar", figure: "/metrics render, per scrape (Go benchmark)",
			value: fmt.Sprintf("%s, %.0f allocs", formatNs(b.NsPerOp), b.AllocsPerOp), target: "—"})
	}
	one, ten, err := measureSidecar(ctx, opts, workDir, logf)
	if err != nil {
		return err
	}
	floor, err := measureClientGolang(ctx, opts, workDir, logf)
	if err != nil {
		return err
	}
	sidecarRows(t, opts, one, ten, floor)
	return nil
}

// measureSidecar runs the sidecar next to the demo app (expvar and pprof)
// with one scraper, then with manyScrapers.
func measureSidecar(ctx context.Context, opts *options, workDir string, logf func(string, ...any)) (one, many window, err error) {
	app, err := rig.StartDemoApp(ctx, opts.RepoRoot, workDir, "expvar")
	if err != nil {
		return one, many, err
	}
	defer func() { err = errors.Join(err, app.Stop()) }()
	sc, err := rig.StartSidecar(ctx, opts.RepoRoot, workDir, app, sampleInterval)
	if err != nil {
		return one, many, err
	}
	defer func() { err = errors.Join(err, sc.Stop()) }()
	logf("sidecar sampling the demo app every %s (pid %d); warming up %s", sampleInterval, sc.Pid(), sidecarWarmup)
	time.Sleep(sidecarWarmup)
	if one, err = measure(ctx, app, sc, sc.URL+"/metrics", 1, opts.SoakDuration); err != nil {
		return one, many, err
	}
	logf("sidecar, 1 scraper: %s", one)
	if many, err = measure(ctx, app, sc, sc.URL+"/metrics", manyScrapers, opts.ScrapersTime); err != nil {
		return one, many, err
	}
	logf("sidecar, %d scrapers: %s", manyScrapers, many)
	return one, many, nil
}

// measureClientGolang scrapes the demo app's own client_golang /metrics
// once per interval: the comparison for the sidecar's cost to the app.
func measureClientGolang(ctx context.Context, opts *options, workDir string, logf func(string, ...any)) (w window, err error) {
	app, err := rig.StartDemoApp(ctx, opts.RepoRoot, workDir, "prometheus")
	if err != nil {
		return w, err
	}
	defer func() { err = errors.Join(err, app.Stop()) }()
	url := "http://127.0.0.1:" + strconv.Itoa(app.DebugPort) + "/metrics"
	if _, err := rig.Scrape(ctx, http.DefaultClient, url); err != nil {
		return w, err
	}
	time.Sleep(sidecarWarmup)
	if w, err = measure(ctx, app, nil, url, 1, opts.FloorTime); err != nil {
		return w, err
	}
	logf("client_golang scraped directly: %s", w)
	return w, nil
}

// measure scrapes url with n scrapers, each once per sampleInterval, for
// d, and reads the app's pauses and (with a sidecar) the sidecar's usage.
func measure(ctx context.Context, app *rig.DemoApp, sc *rig.Sidecar, url string, n int, d time.Duration) (window, error) {
	var w window
	before, err := app.Pauses(ctx)
	if err != nil {
		return w, err
	}
	var monitor *rig.Monitor
	if sc != nil {
		if monitor, err = rig.StartMonitor(sc.Pid(), time.Second); err != nil {
			return w, err
		}
	}
	start := time.Now()
	var scrapes, failures atomic.Int64
	sctx, stop := context.WithTimeout(ctx, d)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			defer client.CloseIdleConnections()
			// Spread the scrapers over the interval, as independent
			// Prometheus servers would be.
			next := start.Add(time.Duration(i) * sampleInterval / time.Duration(n))
			for {
				select {
				case <-sctx.Done():
					return
				case <-time.After(time.Until(next)):
				}
				next = next.Add(sampleInterval)
				if _, err := rig.Scrape(sctx, client, url); err != nil {
					if sctx.Err() == nil {
						failures.Add(1)
					}
					continue
				}
				scrapes.Add(1)
			}
		})
	}
	wg.Wait()
	stop()
	end := time.Now()
	after, err := app.Pauses(ctx)
	if err != nil {
		return w, err
	}
	w.scrapes, w.scrapeErrors = int(scrapes.Load()), int(failures.Load())
	w.other, w.gc = after.Other.Sub(before.Other), after.GC.Sub(before.GC)
	w.samples = w.scrapes
	if sc != nil {
		readings, err := monitor.Stop()
		if err != nil {
			return w, err
		}
		w.usage = rig.Summarize(readings)
		if w.samples, err = sc.SamplesBetween(ctx, start, end); err != nil {
			return w, err
		}
	}
	return w, nil
}

func (w window) String() string {
	return fmt.Sprintf("%d samples, %d scrapes (%d failed), app pauses: other %d (%.0f µs), gc %d (%.0f µs); sidecar CPU %s (stat: %s), RSS %s..%s",
		w.samples, w.scrapes, w.scrapeErrors, w.other.Count, w.other.Seconds*1e6, w.gc.Count, w.gc.Seconds*1e6,
		w.usage.CPU, w.usage.CPUTicks, rig.MiB(w.usage.StartRSS), rig.MiB(w.usage.PeakRSS))
}

// binaryRow checks the sidecar binary's size and that it is static.
func binaryRow(t *table, path string) {
	r := row{group: "sidecar", figure: "binary size (static)", target: "≤ 20 MB, static"}
	fi, err := os.Stat(path)
	if err != nil {
		r.value, r.verdict = err.Error(), missed
		t.add(r)
		return
	}
	static, why := isStatic(path)
	r.value = fmt.Sprintf("%.1f MB, %s", float64(fi.Size())/1e6, why)
	r.verdict = judge(fi.Size() <= binaryTarget && static)
	t.add(r)
}

// isStatic reports whether an ELF binary needs no dynamic loader.
func isStatic(path string) (bool, string) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err.Error()
	}
	defer func() { _ = f.Close() }() // read only
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, "dynamically linked"
		}
	}
	return true, "statically linked"
}
