package findings

import (
	"fmt"
	"math"
	"time"
)

// sample is one timed figure.
type sample struct {
	t time.Time
	v float64
}

// memoryDetector raises MemoryNearLimit when the app's memory stays above a
// share of the container's memory limit for a while. The memory is the
// larger of the heap and the runtime's total, whichever the sources give.
type memoryDetector struct {
	limit                float64
	share, criticalShare float64
	sustain, growth      time.Duration

	above      bool
	aboveSince time.Time
	recent     []sample // the memory over the last growth window, oldest first
}

func newMemoryDetector(opts Options, limits Limits) *memoryDetector {
	return &memoryDetector{
		limit: limits.MemoryBytes, share: opts.MemoryShare, criticalShare: opts.MemoryCriticalShare,
		sustain: opts.MemorySustain, growth: opts.MemoryGrowthWindow,
	}
}

func (d *memoryDetector) observe(o Observation) (Finding, bool) {
	f := Finding{Kind: MemoryNearLimit}
	if d.limit <= 0 {
		return f, false
	}
	if o.Restarted {
		d.above, d.recent = false, d.recent[:0]
	}
	name, used, ok := memoryUsed(o)
	if !ok {
		return f, false
	}
	d.recent = append(d.recent, sample{o.Time, used})
	cut := 0
	for cut < len(d.recent) && o.Time.Sub(d.recent[cut].t) > d.growth {
		cut++
	}
	d.recent = append(d.recent[:0], d.recent[cut:]...)

	share := used / d.limit
	if share < d.share {
		d.above = false
		return f, false
	}
	if !d.above {
		d.above, d.aboveSince = true, o.Time
	}
	if o.Time.Sub(d.aboveSince) < d.sustain {
		return f, false
	}
	f.Severity = Warning
	if share >= d.criticalShare {
		f.Severity = Critical
	}
	f.Evidence = Evidence{From: d.aboveSince, To: o.Time, Figures: []Figure{
		{Name: name, Value: used, Unit: "bytes"},
		{Name: "container memory limit", Value: d.limit, Unit: "bytes"},
		{Name: "share of the limit", Value: share, Unit: "ratio"},
	}}
	rate := slope(d.recent)
	f.Evidence.Figures = append(f.Evidence.Figures, Figure{Name: fmt.Sprintf("growth over the last %s", d.growth), Value: rate, Unit: "bytes per second"})
	if rate > 0 {
		f.Evidence.Figures = append(f.Evidence.Figures, Figure{Name: "time left at this growth", Value: math.Max(0, (d.limit-used)/rate), Unit: "seconds"})
	}
	f.Advice = "Memory is close to the container's limit: set GOMEMLIMIT to about 90% of it so the GC works harder before the kernel kills the app, or raise the limit."
	return f, true
}

// memoryUsed returns the larger of the heap and the runtime's total, and
// its name.
func memoryUsed(o Observation) (string, float64, bool) {
	switch {
	case o.RuntimeBytes != nil && (o.HeapBytes == nil || *o.RuntimeBytes >= *o.HeapBytes):
		return "Go runtime memory", *o.RuntimeBytes, true
	case o.HeapBytes != nil:
		return "heap in use", *o.HeapBytes, true
	}
	return "", 0, false
}

// slope is the least-squares growth rate of samples, per second; 0 for
// fewer than two.
func slope(samples []sample) float64 {
	if len(samples) < 2 {
		return 0
	}
	t0 := samples[0].t
	var n, sx, sy, sxx, sxy float64
	for _, s := range samples {
		x := s.t.Sub(t0).Seconds()
		n++
		sx += x
		sy += s.v
		sxx += x * x
		sxy += x * s.v
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}
