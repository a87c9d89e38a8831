package findings

import "time"

// cpuReading is the cumulative GC and available CPU at one time.
type cpuReading struct {
	t         time.Time
	gc, avail float64
}

// gcDetector raises GCPressure when the GC's share of the app's CPU over a
// window is above a threshold. The share comes from the increase of
// cumulative figures over the window, never from a since-start average.
type gcDetector struct {
	window time.Duration
	share  float64

	base    cpuReading // the start of the window being measured
	hasBase bool
	last    Finding // the finding of the last completed window
	holds   bool
}

func newGCDetector(opts Options) *gcDetector {
	return &gcDetector{window: opts.GCWindow, share: opts.GCShare, last: Finding{Kind: GCPressure}}
}

func (d *gcDetector) observe(o Observation) (Finding, bool) {
	if o.Restarted {
		d.hasBase, d.holds = false, false
	}
	if o.GCCPU == nil || o.AvailableCPU == nil {
		return d.last, d.holds
	}
	r := cpuReading{t: o.Time, gc: *o.GCCPU, avail: *o.AvailableCPU}
	if !d.hasBase || r.gc < d.base.gc || r.avail < d.base.avail {
		// A first reading, or counters that went back (an undetected restart).
		d.base, d.hasBase, d.holds = r, true, false
		return d.last, d.holds
	}
	if r.t.Sub(d.base.t) < d.window {
		return d.last, d.holds
	}
	// Both figures move only when a GC runs (runtime/metrics' CPU classes
	// and GCCPUFraction are updated at the end of a cycle): a window
	// without one spent nothing on the GC.
	share := 0.0
	if spent := r.avail - d.base.avail; spent > 0 {
		share = (r.gc - d.base.gc) / spent
	}
	d.holds = share >= d.share
	d.last = Finding{
		Kind: GCPressure, Severity: Warning,
		Evidence: Evidence{From: d.base.t, To: r.t, Figures: []Figure{
			{Name: "GC share of CPU", Value: share, Unit: "ratio"},
			{Name: "threshold", Value: d.share, Unit: "ratio"},
		}},
		Advice: "The GC takes a large share of the CPU: allocate less, or let the heap grow before each cycle (a higher GOGC, or GOMEMLIMIT with GOGC=off where memory allows).",
	}
	d.base = r
	return d.last, d.holds
}
