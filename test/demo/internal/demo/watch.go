package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar"
	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// knob is something the demo asks the demo app to do so that the numbers
// move, at a given time into the cycle.
type knob struct {
	at     time.Duration
	method string
	path   string
	says   string
}

// knobCycle repeats every knobCycleLength.
const knobCycleLength = 60 * time.Second

// knobCycle starts 500 goroutines at once and stops them (a burst, not a
// leak), then leaks 25 goroutines a second, which the sidecar reports as a
// finding within seconds (the demo pod's thresholds are short) naming the
// leaking function, and stops the leak.
func knobCycle() []knob {
	return []knob{
		{6 * time.Second, http.MethodPost, "/goroutines?n=500", "POST /goroutines?n=500: start 500 goroutines"},
		{12 * time.Second, http.MethodPost, "/alloc?bytes=64MiB&keep=true", "POST /alloc?bytes=64MiB&keep=true: keep 64 MiB live"},
		{18 * time.Second, http.MethodDelete, "/goroutines", "DELETE /goroutines: stop them"},
		{20 * time.Second, http.MethodPost, "/leak?rate=25", "POST /leak?rate=25: leak 25 goroutines a second"},
		{33 * time.Second, http.MethodDelete, "/alloc", "DELETE /alloc: let the 64 MiB go"},
		{36 * time.Second, http.MethodPost, "/gc", "POST /gc: run a GC now"},
		{42 * time.Second, http.MethodDelete, "/leak", "DELETE /leak: stop leaking; the leaked goroutines exit"},
	}
}

// watch prints a row of the sidecar's normalized metrics every rowEvery and
// turns the demo app's knobs on a fixed cycle, until ctx ends.
func watch(ctx context.Context, out *story, metricsURL string, appURL func(path string) string, rowEvery time.Duration) error {
	out.say(`
The sidecar's normalized metrics, read from %s every %s
while the demo turns the app's knobs:
  goroutines  go_goroutines
  heap        go_memstats_heap_inuse_bytes
  GCs         go_gc_duration_seconds_count
  alloc/s     the rate of go_memstats_alloc_bytes_total
  findings    the kinds of gopherscope_finding (each new one is told below its row)
`, metricsURL, rowEvery)
	out.say("  %5s  %10s  %10s  %5s  %11s  %-16s", "time", "goroutines", "heap", "GCs", "alloc/s", "findings")
	findingsURL := strings.TrimSuffix(metricsURL, sidecarconf.SidecarMetricsPath) + sidecar.FindingsPath
	told := map[findings.Kind]bool{}
	start := time.Now()
	knobs := knobCycle()
	next := 0
	cycleStart := start
	var pending []string
	var prevAlloc float64
	var prevAt time.Time
	tick := time.NewTicker(rowEvery)
	defer tick.Stop()
	turn := time.NewTimer(knobs[0].at)
	defer turn.Stop()
	for {
		select {
		case <-ctx.Done():
			out.say("\nRan for %s.", time.Since(start).Round(time.Second))
			return nil
		case <-turn.C:
			k := knobs[next]
			if _, err := localcluster.Do(ctx, k.method, appURL(k.path)); err != nil && ctx.Err() == nil {
				pending = append(pending, fmt.Sprintf("%s failed: %v", k.path, err))
			} else {
				pending = append(pending, k.says)
			}
			next++
			if next == len(knobs) {
				next, cycleStart = 0, cycleStart.Add(knobCycleLength)
			}
			turn.Reset(time.Until(cycleStart.Add(knobs[next].at)))
		case now := <-tick.C:
			s, err := localcluster.Scrape(ctx, metricsURL)
			if err != nil {
				if ctx.Err() != nil {
					continue
				}
				out.say("  %5s  scrape failed: %v", clock(now.Sub(start)), err)
				continue
			}
			alloc := s["go_memstats_alloc_bytes_total"]
			rate := "-"
			if !prevAt.IsZero() && alloc >= prevAlloc {
				rate = bytesHuman((alloc-prevAlloc)/now.Sub(prevAt).Seconds()) + "/s"
			}
			prevAlloc, prevAt = alloc, now
			note := ""
			if len(pending) > 0 {
				note = "<- " + pending[0]
				for _, p := range pending[1:] {
					note += "; " + p
				}
				pending = nil
			}
			kinds := findingKinds(s)
			row := fmt.Sprintf("  %5s  %10.0f  %10s  %5.0f  %11s  %-16s  %s", clock(now.Sub(start)),
				s["go_goroutines"], bytesHuman(s["go_memstats_heap_inuse_bytes"]), s["go_gc_duration_seconds_count"], rate, orDash(strings.Join(kinds, ",")), note)
			out.say("%s", strings.TrimRight(row, " "))
			tellNewFindings(ctx, out, findingsURL, kinds, told)
		}
	}
}

// findingKinds returns the kinds of the active findings in an exposition,
// sorted.
func findingKinds(s localcluster.Samples) []string {
	var kinds []string
	for series, v := range s {
		rest, ok := strings.CutPrefix(series, "gopherscope_finding{")
		if !ok || v != 1 {
			continue
		}
		for label := range strings.SplitSeq(strings.TrimSuffix(rest, "}"), ",") {
			if kind, ok := strings.CutPrefix(label, "kind="); ok {
				kinds = append(kinds, strings.Trim(kind, `"`))
			}
		}
	}
	slices.Sort(kinds)
	return kinds
}

// tellNewFindings prints, for each kind not told before, the finding's
// evidence and advice from the sidecar's API, and the stack a leak names.
// A kind that clears is told again when it comes back.
func tellNewFindings(ctx context.Context, out *story, url string, kinds []string, told map[findings.Kind]bool) {
	for k := range told {
		if !slices.Contains(kinds, string(k)) {
			delete(told, k)
		}
	}
	if len(kinds) == len(told) {
		return
	}
	body, err := localcluster.Get(ctx, url)
	var resp sidecar.FindingsResponse
	if err == nil {
		err = json.Unmarshal(body, &resp)
	}
	if err != nil {
		out.say("         findings: %v", err)
		return
	}
	for _, f := range resp.Findings {
		if told[f.Kind] {
			continue
		}
		told[f.Kind] = true
		out.say("         finding %s (%s): %s", f.Kind, f.Severity, f.Advice)
		for _, st := range f.Stacks {
			out.say("           %d goroutines wait in %s", st.Count, st.Function)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clock formats d as m:ss.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// bytesHuman formats a number of bytes with a binary unit.
func bytesHuman(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", b/(1<<10))
	default:
		return fmt.Sprintf("%.0f B", b)
	}
}
