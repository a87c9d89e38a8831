package main

import (
	"fmt"
	"math"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// sidecarRows adds the sidecar's steady-state figures.
func sidecarRows(t *table, opts *options, sc sidecarWindows, floor window, fetch rig.Span) {
	const group = "sidecar"
	peak := max(sc.none.usage.PeakRSS, sc.one.usage.PeakRSS, sc.many.usage.PeakRSS)
	total := opts.SampleOnly + opts.SoakDuration + opts.ScrapersTime
	t.add(row{group: group, figure: fmt.Sprintf("RSS start / peak / end over %s, 0, 1 and %d scrapers", total, manyScrapers),
		value:  fmt.Sprintf("%s / %s / %s", rig.MiB(sc.none.usage.StartRSS), rig.MiB(peak), rig.MiB(sc.many.usage.EndRSS)),
		target: "≤ " + rig.MiB(rssTarget), verdict: judge(peak <= rssTarget)})

	cpu := time.Duration(sc.none.perSample(float64(sc.none.usage.CPU)))
	fetchSamples := math.Round(fetch.Elapsed.Seconds() / sampleInterval.Seconds())
	fetchCPU := 0.0
	if fetchSamples > 0 {
		fetchCPU = float64(fetch.CPU) / fetchSamples
	}
	t.add(row{group: group, figure: fmt.Sprintf("CPU per sample at %s, no scrapers (floor: a process that only GETs the same two endpoints)", sampleInterval),
		value: fmt.Sprintf("%s (stat ticks: %s)", formatNs(float64(cpu)), formatNs(sc.none.perSample(float64(sc.none.usage.CPUTicks)))),
		floor: formatNs(fetchCPU), ratio: ratio(float64(cpu), fetchCPU),
		target: "≤ " + formatNs(float64(cpuTarget)), verdict: judge(sc.none.samples > 0 && cpu <= cpuTarget)})
	for _, w := range []struct {
		n int
		w window
	}{{1, sc.one}, {manyScrapers, sc.many}} {
		t.add(row{group: group, figure: fmt.Sprintf("CPU per sample with %d scraper(s) of /metrics per sample", w.n),
			value: formatNs(w.w.perSample(float64(w.w.usage.CPU))), floor: formatNs(float64(cpu)),
			ratio: ratio(w.w.perSample(float64(w.w.usage.CPU)), float64(cpu)), target: "—"})
	}

	t.add(row{group: group, figure: "app stop-the-world per sample, 1 scraper (floor: client_golang scraping the app itself)",
		value: stw(sc.one), floor: stw(floor), ratio: ratio(sc.one.perSample(sc.one.other.Seconds), floor.perSample(floor.other.Seconds)), target: "—"})
	countRatio := sc.many.perSample(float64(sc.many.other.Count)) / sc.one.perSample(float64(sc.one.other.Count))
	t.add(row{group: group, figure: fmt.Sprintf("app stop-the-world per sample, %d scrapers (floor: 1 scraper)", manyScrapers),
		value: stw(sc.many), floor: stw(sc.one),
		ratio:  fmt.Sprintf("×%.2f pauses, %s time", countRatio, ratio(sc.many.perSample(sc.many.other.Seconds), sc.one.perSample(sc.one.other.Seconds))),
		target: fmt.Sprintf("×1.00 ± %.0f%% pauses", 100*scrapersRatioTol), verdict: judge(math.Abs(countRatio-1) <= scrapersRatioTol)})
	t.add(row{group: group, figure: "app GC pauses per sample, 1 scraper (the app is idle; for reference)",
		value: gcPauses(sc.one), floor: gcPauses(floor), target: "—"})
	failed := sc.none.scrapeErrors + sc.one.scrapeErrors + sc.many.scrapeErrors + floor.scrapeErrors
	t.add(row{group: group, figure: "failed scrapes, all windows", value: fmt.Sprint(failed), target: "0", verdict: judge(failed == 0)})
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
