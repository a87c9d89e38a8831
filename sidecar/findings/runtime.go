package findings

import (
	"math"
	"strconv"
)

// gomemlimitDetector raises NoGOMEMLIMIT for a container with a memory limit
// whose Go runtime has none: a warning where the source proves it (it
// reports the limit at math.MaxInt64), an info hint where no source reports
// the limit and the pod spec does not set GOMEMLIMIT.
type gomemlimitDetector struct {
	limits Limits
	// seen is the last reported GOMEMLIMIT since the app started, if any.
	seen *float64
	up   bool // some observation carried a figure
}

func (d *gomemlimitDetector) observe(o Observation) (Finding, bool) {
	f := Finding{Kind: NoGOMEMLIMIT}
	if o.Restarted {
		d.seen = nil
	}
	if o.GOMEMLIMIT != nil {
		v := *o.GOMEMLIMIT
		d.seen = &v
	}
	d.up = d.up || carriesFigures(o)
	if d.limits.MemoryBytes <= 0 || !d.up {
		return f, false
	}
	limit := Figure{Name: "container memory limit", Value: d.limits.MemoryBytes, Unit: "bytes"}
	f.Evidence = Evidence{From: o.Time, To: o.Time}
	advice := "set GOMEMLIMIT to about 90% of the container's memory limit (or annotate the pod gopherscope.io/tune: gomemlimit), so the GC works harder before the kernel kills the app."
	switch {
	case d.seen != nil && *d.seen >= math.MaxInt64:
		f.Severity = Warning
		f.Evidence.Figures = []Figure{limit, {Name: "GOMEMLIMIT", Value: *d.seen, Unit: "bytes"}}
		f.Advice = "The Go runtime has no memory limit: " + advice
		return f, true
	case d.seen == nil && d.limits.GOMEMLIMITEnv == "":
		f.Severity = Info
		f.Evidence.Figures = []Figure{limit}
		f.Advice = "Unverified (the app does not report its memory limit, which code may set): if it has none, " + advice
		return f, true
	}
	return f, false
}

// carriesFigures reports whether o has any figure at all.
func carriesFigures(o Observation) bool {
	for _, v := range []*float64{o.Goroutines, o.HeapBytes, o.RuntimeBytes, o.GCCPU, o.AvailableCPU, o.GOMEMLIMIT, o.GOMAXPROCS} {
		if v != nil {
			return true
		}
	}
	return false
}

// gomaxprocsDetector raises GOMAXPROCSAboveCPULimit when the app reports a
// GOMAXPROCS above what Go 1.25's container-aware default would choose for
// the container's CPU limit: an older Go or an explicit override.
type gomaxprocsDetector struct {
	limits Limits
	seen   *float64
}

func (d *gomaxprocsDetector) observe(o Observation) (Finding, bool) {
	f := Finding{Kind: GOMAXPROCSAboveCPULimit}
	if o.Restarted {
		d.seen = nil
	}
	if o.GOMAXPROCS != nil {
		v := *o.GOMAXPROCS
		d.seen = &v
	}
	if d.limits.CPU <= 0 || d.seen == nil {
		return f, false
	}
	want := DefaultGOMAXPROCS(d.limits.CPU, d.limits.NumCPU)
	if *d.seen <= float64(want) {
		return f, false
	}
	f.Severity = Warning
	f.Evidence = Evidence{From: o.Time, To: o.Time, Figures: []Figure{
		{Name: "GOMAXPROCS", Value: *d.seen, Unit: "threads"},
		{Name: "container CPU limit", Value: d.limits.CPU, Unit: "cores"},
		{Name: "Go 1.25's default for this limit", Value: float64(want), Unit: "threads"},
	}}
	f.Advice = "GOMAXPROCS is above the CPU limit, so the app is throttled: build with Go 1.25 or later and do not set GOMAXPROCS (or set it to " + strconv.Itoa(want) + ")."
	return f, true
}

// DefaultGOMAXPROCS is the GOMAXPROCS Go 1.25+ chooses by default under a
// CPU limit of cpu cores on a node of numCPU CPUs (0: unknown): the limit
// rounded up, at least 2, at most numCPU.
func DefaultGOMAXPROCS(cpu float64, numCPU int) int {
	n := max(int(math.Ceil(cpu)), 2)
	if numCPU > 0 {
		n = min(n, numCPU)
	}
	return n
}
