package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// sampled is a window of n samples that took cpu each, with pauses
// stop-the-world pauses of the app and a peak RSS in MiB.
func sampled(n int, cpu time.Duration, pauses uint64, peakMiB int64) window {
	return window{samples: n, scrapes: n, edges: 1, other: rig.PauseTotal{Count: pauses},
		usage: rig.Span{CPU: time.Duration(n) * cpu, StartRSS: 9 << 20, PeakRSS: peakMiB << 20, EndRSS: 10 << 20}}
}

func TestWindowAddKeepsTheFirstStartAndTheLastEnd(t *testing.T) {
	a := window{samples: 10, edges: 1, other: rig.PauseTotal{Count: 10, Seconds: 1e-3}, usage: rig.Span{StartRSS: 1, PeakRSS: 5, EndRSS: 2, CPU: time.Second}}
	b := window{samples: 12, edges: 1, other: rig.PauseTotal{Count: 12, Seconds: 2e-3}, usage: rig.Span{StartRSS: 3, PeakRSS: 4, EndRSS: 3, CPU: 2 * time.Second}}
	got := window{}.add(a).add(b)
	want := window{samples: 22, edges: 2, other: rig.PauseTotal{Count: 22, Seconds: 3e-3}, usage: rig.Span{StartRSS: 1, PeakRSS: 5, EndRSS: 3, CPU: 3 * time.Second}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(window{})); diff != "" {
		t.Errorf("add (-want +got):\n%s", diff)
	}
}

func TestSidecarRowsJudgeEachTarget(t *testing.T) {
	opts := &options{SampleOnly: 30 * time.Second, ScrapersTime: 36 * time.Second, SourceTime: 20 * time.Second}
	fetch := rig.Span{CPU: 30 * 500 * time.Microsecond, Elapsed: 30 * time.Second} // 500 µs per sample
	tests := []struct {
		name       string
		windows    sidecarWindows
		sources    map[string]window
		wantMisses []string
	}{
		{
			name: "every target met",
			windows: sidecarWindows{none: sampled(30, 790*time.Microsecond, 30, 11),
				scrapers: [3]window{sampled(36, time.Millisecond, 36, 12), sampled(36, 1150*time.Microsecond, 37, 12), sampled(36, 1900*time.Microsecond, 36, 14)}},
			sources: map[string]window{"prometheus": sampled(20, time.Millisecond, 0, 12), "pprof": sampled(20, time.Millisecond, 0, 10)},
		},
		{
			name: "a sidecar over its floor, scrapers that cost, a pause per scrape and too much memory miss",
			windows: sidecarWindows{none: sampled(30, 810*time.Microsecond, 30, 11),
				scrapers: [3]window{sampled(36, time.Millisecond, 36, 12), sampled(36, 1250*time.Microsecond, 72, 12), sampled(36, 2100*time.Microsecond, 360, 16)}},
			sources: map[string]window{"prometheus": sampled(20, time.Millisecond, 0, 16), "pprof": sampled(0, 0, 0, 10)},
			wantMisses: []string{
				"RSS start / peak / end, expvar and pprof",
				"RSS start / peak / end, the app's client_golang",
				"RSS start / peak / end, pprof alone",
				"CPU per sample at 1s, no scrapers",
				"CPU per sample with 2 scrapers",
				"CPU per sample with 10 scrapers",
				"app stop-the-world pauses per sample",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &table{}
			tt.windows.fetch = fetch
			sidecarRows(tb, opts, tt.windows, tt.sources, sampled(30, 0, 0, 0))
			var misses []string
			for _, r := range tb.rows {
				if r.verdict != missed {
					continue
				}
				for _, prefix := range tt.wantMisses {
					if strings.HasPrefix(r.figure, prefix) {
						misses = append(misses, prefix)
					}
				}
			}
			if diff := cmp.Diff(tt.wantMisses, misses); diff != "" || tb.misses() != len(tt.wantMisses) {
				var text strings.Builder
				_ = tb.print(&text)
				t.Errorf("misses (-want +got):\n%s\n%s", diff, text.String())
			}
		})
	}
}
