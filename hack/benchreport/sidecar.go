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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// Targets for the sidecar (issue 5's binary and RSS; issue 11's CPU,
// scrapers and stop-the-world), and what is measured.
const (
	rssTarget         = 15 << 20
	cpuFloorTarget    = 1.6 // CPU per sample, × the fetch-only floor
	twoScraperTarget  = 1.2 // CPU per sample with 2 scrapers, × 1 scraper
	manyScraperTarget = 2.0 // CPU per sample with manyScrapers, × 1 scraper
	findingsTarget    = 1.1 // one sample with the findings' detectors, × without them
	binaryTarget      = 20_000_000
	sampleInterval    = time.Second
	sidecarWarmup     = 5 * time.Second
	manyScrapers      = 10
)

// scraperCounts are the sidecar windows compared with each other.
var scraperCounts = [...]int{1, 2, manyScrapers}

// window is what one measurement window saw.
type window struct {
	samples      int // sidecar samples, or scrapes of the app itself
	scrapes      int
	scrapeErrors int
	edges        int            // window boundaries (one per round), each of which may split a sample from its pause
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

// add is w and a later window of the same measurement together.
func (w window) add(o window) window {
	sum := func(a, b rig.PauseTotal) rig.PauseTotal {
		return rig.PauseTotal{Count: a.Count + b.Count, Seconds: a.Seconds + b.Seconds, MinSeconds: a.MinSeconds + b.MinSeconds, MaxSeconds: a.MaxSeconds + b.MaxSeconds}
	}
	u := w.usage
	if w.edges == 0 {
		u.StartRSS = o.usage.StartRSS
	}
	u.PeakRSS, u.EndRSS = max(u.PeakRSS, o.usage.PeakRSS), o.usage.EndRSS
	u.CPU, u.CPUTicks, u.Elapsed = u.CPU+o.usage.CPU, u.CPUTicks+o.usage.CPUTicks, u.Elapsed+o.usage.Elapsed
	return window{samples: w.samples + o.samples, scrapes: w.scrapes + o.scrapes, scrapeErrors: w.scrapeErrors + o.scrapeErrors,
		edges: w.edges + o.edges, other: sum(w.other, o.other), gc: sum(w.gc, o.gc), usage: u}
}

// benchSidecar measures bin/sidecar against the demo app and the app
// scraped directly through client_golang.
func benchSidecar(ctx context.Context, opts *options, workDir string, benches map[string]goBench, t *table, logf func(string, ...any)) error {
	if err := os.MkdirAll(workDir, 0o750); err != nil {
		return fmt.Errorf("create %s: %w", workDir, err)
	}
	binaryRow(t, filepath.Join(opts.RepoRoot, "bin", "sidecar"))
	if b, ok := benches["BenchmarkMetricsRender"]; ok {
		t.add(row{group: "sidecar", figure: "/metrics render, once per sample (Go benchmark)",
			value: fmt.Sprintf("%s, %.0f allocs", formatNs(b.NsPerOp), b.AllocsPerOp), target: "—"})
	}
	findingsRow(t, benches)
	sidecar, err := measureSidecar(ctx, opts, workDir, logf)
	if err != nil {
		return err
	}
	sources := map[string]window{}
	for _, mode := range []string{"prometheus", "pprof"} {
		if sources[mode], err = measureSource(ctx, opts, workDir, mode, logf); err != nil {
			return err
		}
	}
	floor, err := measureClientGolang(ctx, opts, workDir, logf)
	if err != nil {
		return err
	}
	sidecarRows(t, opts, sidecar, sources, floor)
	return nil
}

// sidecarWindows are the sidecar's measurement windows next to the demo
// app's expvar mode: without scrapers, and with each of scraperCounts; and
// the fetch-only floor, measured during the window without scrapers.
type sidecarWindows struct {
	none     window
	scrapers [len(scraperCounts)]window
	fetch    rig.Span
}

// measureSidecar runs the sidecar next to the demo app (expvar and pprof)
// without scrapers, then with 1, 2 and manyScrapers scrapers taking turns.
func measureSidecar(ctx context.Context, opts *options, workDir string, logf func(string, ...any)) (w sidecarWindows, err error) {
	app, err := rig.StartDemoApp(ctx, opts.RepoRoot, workDir, "expvar")
	if err != nil {
		return w, err
	}
	defer func() { err = errors.Join(err, app.Stop()) }()
	env := sidecarEnv(opts)
	sc, err := rig.StartSidecar(ctx, opts.RepoRoot, workDir, app, sampleInterval, env)
	if err != nil {
		return w, err
	}
	defer func() { err = errors.Join(err, sc.Stop()) }()
	logf("sidecar sampling the demo app every %s (pid %d, env %q)", sampleInterval, sc.Pid(), env)
	if w.none, w.fetch, err = measureIdle(ctx, opts, workDir, app, sc); err != nil {
		return w, err
	}
	logf("sidecar, no scrapers: %s; fetch floor: CPU %s in %s", w.none, w.fetch.CPU, w.fetch.Elapsed.Round(time.Millisecond))
	// Scrapers' one-time costs (connections, the first gzip writer) fall
	// in an unmeasured window, not in the first measured one.
	if _, err := measure(ctx, app, sc, sc.URL+"/metrics", manyScrapers, sidecarWarmup); err != nil {
		return w, err
	}
	slice := opts.ScrapersTime / time.Duration(opts.Rounds)
	err = takeTurns(opts.Rounds, len(scraperCounts), func(which, round int) error {
		m, err := measure(ctx, app, sc, sc.URL+"/metrics", scraperCounts[which], slice)
		if err != nil {
			return err
		}
		logf("sidecar, %d scrapers, round %d: %s", scraperCounts[which], round+1, m)
		w.scrapers[which] = w.scrapers[which].add(m)
		return nil
	})
	return w, err
}

// measureSource runs the sidecar next to the demo app in another mode
// (prometheus: client_golang's /metrics, which the sidecar reads when given
// --metrics-path as the injector passes it; pprof: the pprof index alone)
// with manyScrapers scrapers, for its RSS.
func measureSource(ctx context.Context, opts *options, workDir, mode string, logf func(string, ...any)) (w window, err error) {
	app, err := rig.StartDemoApp(ctx, opts.RepoRoot, workDir, mode)
	if err != nil {
		return w, err
	}
	defer func() { err = errors.Join(err, app.Stop()) }()
	var args []string
	if mode == "prometheus" {
		args = append(args, "--"+sidecarconf.FlagMetricsPath+"=/metrics")
	}
	sc, err := rig.StartSidecar(ctx, opts.RepoRoot, workDir, app, sampleInterval, sidecarEnv(opts), args...)
	if err != nil {
		return w, err
	}
	defer func() { err = errors.Join(err, sc.Stop()) }()
	time.Sleep(sidecarWarmup)
	if w, err = measure(ctx, app, sc, sc.URL+"/metrics", manyScrapers, opts.SourceTime); err != nil {
		return w, err
	}
	logf("sidecar on the demo app's %s mode, %d scrapers: %s", mode, manyScrapers, w)
	return w, nil
}

// sidecarEnv is --sidecar-env as a list.
func sidecarEnv(opts *options) []string { return splitEnv(opts.SidecarEnv) }

// splitEnv splits a comma-separated KEY=VALUE list; "" is none.
func splitEnv(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// measureIdle measures the sidecar without scrapers and, at the same time,
// so that both see the same machine, its CPU floor: next to a demo app of
// its own, a process that only fetches expvar and the pprof index once per
// interval. Both cost a few milliseconds a second, too little to disturb
// each other.
func measureIdle(ctx context.Context, opts *options, workDir string, app *rig.DemoApp, sc *rig.Sidecar) (none window, fetch rig.Span, err error) {
	other, err := rig.StartDemoApp(ctx, opts.RepoRoot, workDir, "expvar")
	if err != nil {
		return none, fetch, err
	}
	defer func() { err = errors.Join(err, other.Stop()) }()
	fetcher, err := startFetchFloor(other, workDir, sidecarEnv(opts))
	if err != nil {
		return none, fetch, err
	}
	defer func() { err = errors.Join(err, fetcher.Stop()) }()
	time.Sleep(sidecarWarmup)
	monitor, err := rig.StartMonitor(fetcher.Pid(), time.Second)
	if err != nil {
		return none, fetch, err
	}
	none, err = measure(ctx, app, sc, sc.URL+"/metrics", 0, opts.SampleOnly)
	readings, merr := monitor.Stop()
	if err = errors.Join(err, merr); err != nil {
		return none, fetch, err
	}
	return none, rig.Summarize(readings), nil
}

// measureClientGolang scrapes the demo app's own client_golang /metrics
// once per interval: the app's stop-the-world floor.
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
	<-sctx.Done()
	wg.Wait()
	stop()
	end := time.Now()
	after, err := app.Pauses(ctx)
	if err != nil {
		return w, err
	}
	w.scrapes, w.scrapeErrors, w.edges = int(scrapes.Load()), int(failures.Load()), 1
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

// findingsRow compares one sample with the findings' detectors and without
// them (Go benchmark, the same fake app over loopback HTTP).
func findingsRow(t *table, benches map[string]goBench) {
	off, okOff := benches["BenchmarkSampleOnceFindings/off"]
	on, okOn := benches["BenchmarkSampleOnceFindings/on"]
	if !okOff || !okOn {
		return
	}
	t.add(row{group: "sidecar", figure: "one sample with the findings' detectors (Go benchmark; floor: the same sample without them)",
		value: fmt.Sprintf("%s, %.0f allocs", formatNs(on.NsPerOp), on.AllocsPerOp), floor: formatNs(off.NsPerOp), ratio: ratio(on.NsPerOp, off.NsPerOp),
		target: fmt.Sprintf("×%.2f at most", findingsTarget), verdict: judge(off.NsPerOp > 0 && on.NsPerOp <= findingsTarget*off.NsPerOp)})
}
