package findings

import (
	"fmt"
	"time"
)

// window is one completed window's minimum goroutine count.
type window struct {
	start time.Time
	min   float64
}

// leakDetector suspects a goroutine leak when the minimum goroutine count of
// each of the last n windows is higher than the one before, by at least
// minGrowth in all. Minimums ignore a pool that breathes; growth in every
// window ignores a count that wanders. Each window must add at least half
// its share of minGrowth (minStep), so a count that creeps up by one or two
// and then steps up once (a pool that grew and stays) is not a leak.
type leakDetector struct {
	length    time.Duration
	n         int
	minGrowth float64
	minStep   float64

	// The window being filled: its index since origin and its minimum.
	origin  time.Time
	started bool
	index   int64
	min     float64
	filled  bool
	// The last n completed windows, oldest first, consecutive in growth.
	done []window
}

func newLeakDetector(opts Options) *leakDetector {
	return &leakDetector{length: opts.LeakWindow, n: opts.LeakWindows, minGrowth: opts.LeakMinGrowth,
		minStep: opts.LeakMinGrowth / float64(2*(opts.LeakWindows-1))}
}

func (d *leakDetector) observe(o Observation) (Finding, bool) {
	if o.Restarted {
		*d = leakDetector{length: d.length, n: d.n, minGrowth: d.minGrowth, minStep: d.minStep}
	}
	if o.Goroutines != nil {
		d.add(o.Time, *o.Goroutines)
	}
	return d.finding()
}

// add puts one count into its window, completing the window before it.
func (d *leakDetector) add(t time.Time, goroutines float64) {
	if !d.started {
		d.origin, d.started = t, true
	}
	index := int64(t.Sub(d.origin) / d.length)
	if index != d.index {
		d.complete()
		d.index = index
	}
	if !d.filled || goroutines < d.min {
		d.min, d.filled = goroutines, true
	}
}

// finding returns the leak finding and whether it holds.
func (d *leakDetector) finding() (Finding, bool) {
	f := Finding{Kind: GoroutineLeak}
	if !d.holds() {
		return f, false
	}
	first, last := d.done[0], d.done[len(d.done)-1]
	f.Severity = Warning
	f.Evidence = Evidence{From: first.start, To: last.start.Add(d.length)}
	for i, w := range d.done {
		f.Evidence.Figures = append(f.Evidence.Figures, Figure{Name: fmt.Sprintf("minimum goroutines in window %d", i+1), Value: w.min, Unit: "goroutines"})
	}
	growth := last.min - first.min
	f.Evidence.Figures = append(f.Evidence.Figures,
		Figure{Name: "growth of the minimum", Value: growth, Unit: "goroutines"},
		Figure{Name: "growth rate", Value: growth / last.start.Sub(first.start).Seconds(), Unit: "goroutines per second"})
	f.Advice = "Goroutines accumulate: look in the goroutine profile for the stacks that grow, and make sure each goroutine can exit (a cancelled context, a closed channel, a timeout)."
	return f, true
}

// complete closes the window being filled. A window whose minimum is not at
// least minStep higher than the previous completed one's starts the growth
// over.
func (d *leakDetector) complete() {
	if !d.filled {
		return
	}
	w := window{start: d.origin.Add(time.Duration(d.index) * d.length), min: d.min}
	d.filled = false
	if len(d.done) > 0 && w.min-d.done[len(d.done)-1].min < d.minStep {
		d.done = d.done[:0]
	}
	d.done = append(d.done, w)
	if len(d.done) > d.n {
		d.done = append(d.done[:0], d.done[1:]...)
	}
}

// holds reports whether the last n completed windows grew enough.
func (d *leakDetector) holds() bool {
	return len(d.done) == d.n && d.done[len(d.done)-1].min-d.done[0].min >= d.minGrowth
}

// baseline is the goroutine count before the trend: the minimum of the
// first window that grew (0 before there is one).
func (d *leakDetector) baseline() float64 {
	if len(d.done) == 0 {
		return 0
	}
	return d.done[0].min
}
