package main

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// sidecarRows adds the sidecar's steady-state figures.
func sidecarRows(t *table, opts *options, sc sidecarWindows, sources map[string]window, floor window) {
	const group = "sidecar"
	rssRows(t, opts, sc, sources)

	cpu := sc.none.perSample(float64(sc.none.usage.CPU))
	fetchSamples := math.Round(sc.fetch.Elapsed.Seconds() / sampleInterval.Seconds())
	fetchCPU := 0.0
	if fetchSamples > 0 {
		fetchCPU = float64(sc.fetch.CPU) / fetchSamples
	}
	t.add(row{group: group, figure: fmt.Sprintf("CPU per sample at %s, no scrapers (floor: a process that only GETs the same two endpoints, at the same time)", sampleInterval),
		value: fmt.Sprintf("%s (stat ticks: %s)", formatNs(cpu), formatNs(sc.none.perSample(float64(sc.none.usage.CPUTicks)))),
		floor: formatNs(fetchCPU), ratio: ratio(cpu, fetchCPU),
		target: fmt.Sprintf("×%.2f at most", cpuFloorTarget), verdict: judge(sc.none.samples > 0 && fetchCPU > 0 && cpu <= cpuFloorTarget*fetchCPU)})
	one := sc.scrapers[0]
	oneCPU := one.perSample(float64(one.usage.CPU))
	t.add(row{group: group, figure: "CPU per sample with 1 scraper of /metrics per sample (floor: no scrapers)",
		value: formatNs(oneCPU), floor: formatNs(cpu), ratio: ratio(oneCPU, cpu), target: "—"})
	for _, c := range []struct {
		i      int
		target float64
	}{{1, twoScraperTarget}, {2, manyScraperTarget}} {
		i, target := c.i, c.target
		w := sc.scrapers[i]
		c := w.perSample(float64(w.usage.CPU))
		t.add(row{group: group, figure: fmt.Sprintf("CPU per sample with %d scrapers of /metrics per sample (floor: 1 scraper)", scraperCounts[i]),
			value: formatNs(c), floor: formatNs(oneCPU), ratio: ratio(c, oneCPU),
			target: fmt.Sprintf("×%.2f at most", target), verdict: judge(w.samples > 0 && oneCPU > 0 && c <= target*oneCPU)})
	}

	// The app's stop-the-world pauses: expvar's memstats costs one per
	// sample; scrapers of the sidecar must add none.
	windows := append([]window{sc.none}, sc.scrapers[:]...)
	var perSample []string
	atMostOne := true
	for _, w := range windows {
		perSample = append(perSample, fmt.Sprintf("%.2f", w.perSample(float64(w.other.Count))))
		atMostOne = atMostOne && w.samples > 0 && int(w.other.Count) <= w.samples+w.edges //nolint:gosec // a count of pauses in a window, far below 2^63
	}
	t.add(row{group: group, figure: fmt.Sprintf("app stop-the-world pauses per sample with 0 / %s scrapers", strings.Join(scraperNames(), " / ")),
		value: strings.Join(perSample, " / "), target: "1 at most, each (±1 at each window's edge)", verdict: judge(atMostOne)})
	t.add(row{group: group, figure: "app stop-the-world per sample, 1 scraper (floor: client_golang scraping the app itself)",
		value: stw(one), floor: stw(floor), target: "—"})
	t.add(row{group: group, figure: "app GC pauses per sample, 1 scraper (the app is idle; for reference)",
		value: gcPauses(one), floor: gcPauses(floor), target: "—"})
	failed := floor.scrapeErrors + sc.none.scrapeErrors
	for _, w := range sc.scrapers {
		failed += w.scrapeErrors
	}
	for _, w := range sources {
		failed += w.scrapeErrors
	}
	t.add(row{group: group, figure: "failed scrapes, all windows", value: fmt.Sprint(failed), target: "0", verdict: judge(failed == 0)})
}

// rssRows adds the sidecar's memory next to each mode of the demo app.
func rssRows(t *table, opts *options, sc sidecarWindows, sources map[string]window) {
	all := sc.none
	for _, w := range sc.scrapers {
		all = all.add(w)
	}
	target := "≤ " + rig.MiB(rssTarget)
	t.add(row{group: "sidecar", figure: fmt.Sprintf("RSS start / peak / end, expvar and pprof (demo app --mode=expvar), over %s with 0, %s scrapers",
		(opts.SampleOnly + opts.ScrapersTime*time.Duration(len(scraperCounts))).Round(time.Second), strings.Join(scraperNames(), ", ")),
		value: rss(all), target: target, verdict: judge(all.samples > 0 && all.usage.PeakRSS <= rssTarget)})
	for _, s := range []struct{ mode, label string }{
		{"prometheus", "the app's client_golang /metrics (--mode=prometheus, --metrics-path=/metrics)"},
		{"pprof", "pprof alone (--mode=pprof)"},
	} {
		w := sources[s.mode]
		t.add(row{group: "sidecar", figure: fmt.Sprintf("RSS start / peak / end, %s, over %s with %d scrapers", s.label, opts.SourceTime, manyScrapers),
			value: fmt.Sprintf("%s; %d samples", rss(w), w.samples), target: target, verdict: judge(w.samples > 0 && w.usage.PeakRSS <= rssTarget)})
	}
}

// scraperNames are scraperCounts as text.
func scraperNames() []string {
	var s []string
	for _, n := range scraperCounts {
		s = append(s, fmt.Sprint(n))
	}
	return s
}

// rss prints a window's RSS at its start, peak and end.
func rss(w window) string {
	return fmt.Sprintf("%s / %s / %s", rig.MiB(w.usage.StartRSS), rig.MiB(w.usage.PeakRSS), rig.MiB(w.usage.EndRSS))
}

// stw prints the other pauses per sample: count, and time with its bounds.
func stw(w window) string {
	return fmt.Sprintf("%.2f pauses, %s (%s–%s) over %d samples",
		w.perSample(float64(w.other.Count)), formatNs(w.perSample(w.other.Seconds*1e9)),
		formatNs(w.perSample(w.other.MinSeconds*1e9)), formatNs(w.perSample(w.other.MaxSeconds*1e9)), w.samples)
}

// gcPauses prints the GC pauses per sample.
func gcPauses(w window) string {
	return fmt.Sprintf("%.2f pauses, %s", w.perSample(float64(w.gc.Count)), formatNs(w.perSample(w.gc.Seconds*1e9)))
}
