package demo

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

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
const knobCycleLength = 48 * time.Second

func knobCycle() []knob {
	return []knob{
		{6 * time.Second, http.MethodPost, "/goroutines?n=500", "POST /goroutines?n=500: start 500 goroutines"},
		{15 * time.Second, http.MethodPost, "/alloc?bytes=64MiB&keep=true", "POST /alloc?bytes=64MiB&keep=true: keep 64 MiB live"},
		{24 * time.Second, http.MethodDelete, "/goroutines", "DELETE /goroutines: stop them"},
		{33 * time.Second, http.MethodDelete, "/alloc", "DELETE /alloc: let the 64 MiB go"},
		{36 * time.Second, http.MethodPost, "/gc", "POST /gc: run a GC now"},
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
`, metricsURL, rowEvery)
	out.say("  %5s  %10s  %10s  %5s  %11s", "time", "goroutines", "heap", "GCs", "alloc/s")
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
			row := fmt.Sprintf("  %5s  %10.0f  %10s  %5.0f  %11s  %s", clock(now.Sub(start)),
				s["go_goroutines"], bytesHuman(s["go_memstats_heap_inuse_bytes"]), s["go_gc_duration_seconds_count"], rate, note)
			out.say("%s", strings.TrimRight(row, " "))
		}
	}
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
