package main

import (
	"fmt"
	"math"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// sidecarRows adds the sidecar's steady-state figures.
func sidecarRows(t *table, opts *options, one, many, floor window) {
	const group = "sidecar"
	peak := max(one.usage.PeakRSS, many.usage.PeakRSS)
	t.add(row{group: group, figure: fmt.Sprintf("RSS start / peak / end, %s at %s", opts.SoakDuration+opts.ScrapersTime, sampleInterval),
		value:  fmt.Sprintf("%s / %s / %s", rig.MiB(one.usage.StartRSS), rig.MiB(peak), rig.MiB(many.usage.EndRSS)),
		target: "≤ " + rig.MiB(rssTarget), verdict: judge(peak <= rssTarget)})
	cpu := time.Duration(one.perSample(float64(one.usage.CPU)))
	t.add(row{group: group, figure: "CPU per sample, 1 scraper (schedstat; stat ticks in brackets)",
		value:  fmt.Sprintf("%s (%s)", formatNs(float64(cpu)), formatNs(one.perSample(float64(one.usage.CPUTicks)))),
		target: "≤ " + formatNs(float64(cpuTarget)), verdict: judge(one.samples > 0 && cpu <= cpuTarget)})
	t.add(row{group: group, figure: fmt.Sprintf("CPU per sample, %d scrapers", manyScrapers),
		value: formatNs(many.perSample(float64(many.usage.CPU))), floor: formatNs(float64(cpu)),
		ratio: ratio(many.perSample(float64(many.usage.CPU)), float64(cpu)), target: "—"})
	t.add(row{group: group, figure: "app stop-the-world per sample (other pauses; floor: client_golang scraping the app itself)",
		value: stw(one), floor: stw(floor), ratio: ratio(one.perSample(one.other.Seconds), floor.perSample(floor.other.Seconds)), target: "—"})
	countRatio := many.perSample(float64(many.other.Count)) / one.perSample(float64(one.other.Count))
	t.add(row{group: group, figure: fmt.Sprintf("app stop-the-world per sample, %d scrapers (floor: 1 scraper)", manyScrapers),
		value: stw(many), floor: stw(one), ratio: fmt.Sprintf("×%.2f pauses, %s time", countRatio, ratio(many.perSample(many.other.Seconds), one.perSample(one.other.Seconds))),
		target: fmt.Sprintf("×1.00 ± %.0f%% pauses", 100*scrapersRatioTol), verdict: judge(math.Abs(countRatio-1) <= scrapersRatioTol)})
	t.add(row{group: group, figure: "app GC pauses per sample (the app is idle; for reference)",
		value: gcPauses(one), floor: gcPauses(floor), target: "—"})
	failed := one.scrapeErrors + many.scrapeErrors + floor.scrapeErrors
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
