package findings

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Kind names what a finding is about. Its value is the label value of
// gopherscope_finding{kind}.
type Kind string

// The kinds of finding.
const (
	// GoroutineLeak: the goroutine count grows across consecutive windows.
	GoroutineLeak Kind = "goroutine_leak"
	// MemoryNearLimit: the app's memory is above a share of the
	// container's memory limit.
	MemoryNearLimit Kind = "memory_near_limit"
	// NoGOMEMLIMIT: the container has a memory limit but the Go runtime
	// has no soft memory limit.
	NoGOMEMLIMIT Kind = "no_gomemlimit"
	// GCPressure: the GC takes more than a share of the app's CPU.
	GCPressure Kind = "gc_pressure"
	// GOMAXPROCSAboveCPULimit: GOMAXPROCS is above what Go's own
	// container-aware default would choose for the container's CPU limit.
	GOMAXPROCSAboveCPULimit Kind = "gomaxprocs_above_cpu_limit"
)

// Severity says how urgent a finding is. Its value is the label value of
// gopherscope_finding{severity}.
type Severity string

// The severities, least urgent first.
const (
	// Info is advice whose premise is not verified.
	Info Severity = "info"
	// Warning is a problem that costs performance or will cost availability.
	Warning Severity = "warning"
	// Critical is a problem about to cost availability.
	Critical Severity = "critical"
)

// Figure is one number of a finding's evidence.
type Figure struct {
	// Name says what the number is, e.g. "goroutines".
	Name string `json:"name"`
	// Value is the number, in Unit.
	Value float64 `json:"value"`
	// Unit is the number's unit: "bytes", "seconds", "ratio" or a count's
	// noun such as "goroutines".
	Unit string `json:"unit"`
}

// Evidence is the numbers a finding rests on and the window they come from.
type Evidence struct {
	// From and To bound the window the figures were taken over (equal for
	// a finding on the latest sample alone).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Figures are the numbers, most telling first.
	Figures []Figure `json:"figures"`
}

// Finding is one thing that is wrong with the app, while it holds.
type Finding struct {
	Kind     Kind     `json:"kind"`
	Severity Severity `json:"severity"`
	// Evidence is as of the latest observation.
	Evidence Evidence `json:"evidence"`
	// Advice is one line saying what to do.
	Advice string `json:"advice"`
	// Since is the time of the observation that first raised the finding;
	// it is kept while the finding stays active.
	Since time.Time `json:"since"`
	// Stacks name the goroutine stacks that hold a suspected leak's
	// growth, largest share first (GoroutineLeak only, once the app's
	// goroutine profile has been read).
	Stacks []Stack `json:"stacks,omitempty"`
	// StacksRead is when the goroutine profile Stacks come from was read.
	StacksRead time.Time `json:"stacksRead,omitzero"`
}

// Stack is one group of goroutines with the same stack in the app's
// goroutine profile (net/http/pprof's goroutine?debug=1).
type Stack struct {
	// Function is the innermost function of the stack outside the Go
	// runtime: where the goroutines wait, in the app's code.
	Function string `json:"function"`
	// Count is how many goroutines had this stack at the latest read.
	Count int `json:"count"`
	// Growth is how many more goroutines had this stack than at the
	// previous read; nil on the first read, where Count is compared with
	// the goroutines before the trend began.
	Growth *int `json:"growth,omitempty"`
	// Frames are the stack's functions with their file:line, innermost
	// first, as the profile lists them (at most 16).
	Frames []string `json:"frames"`
	// Leaked says the runtime's own goroutine leak profile lists these
	// goroutines: they wait on something no other goroutine can reach.
	Leaked bool `json:"leaked,omitempty"`
}

// Observation is what one sample tells the detectors. A nil figure is one
// the app's sources do not provide (or did not provide this time); the
// detectors that need it stay silent.
type Observation struct {
	// Time is when the sample was taken.
	Time time.Time
	// Restarted says the app restarted since the previous observation:
	// the detectors forget their trends.
	Restarted bool
	// Goroutines is go_goroutines.
	Goroutines *float64
	// HeapBytes is the heap in use (go_memstats_heap_inuse_bytes or
	// go_memstats_heap_alloc_bytes).
	HeapBytes *float64
	// RuntimeBytes is the memory the Go runtime holds from the OS and has
	// not released (go_memstats_sys_bytes minus
	// go_memstats_heap_released_bytes).
	RuntimeBytes *float64
	// GCCPU and AvailableCPU are cumulative: the GC's CPU time and the
	// CPU time available to the app, in any one unit. Either runtime/metrics'
	// /cpu/classes/gc/total:cpu-seconds and /cpu/classes/total:cpu-seconds,
	// or MemStats.GCCPUFraction × uptime and uptime. The GC's share of CPU
	// over a window is the ratio of their increases.
	GCCPU, AvailableCPU *float64
	// GOMEMLIMIT is go_gc_gomemlimit_bytes: math.MaxInt64 means no limit.
	GOMEMLIMIT *float64
	// GOMAXPROCS is go_sched_gomaxprocs_threads.
	GOMAXPROCS *float64
}

// Limits is what the sidecar knows of the app container.
type Limits struct {
	// MemoryBytes is the container's memory limit; 0 means none or unknown.
	MemoryBytes float64
	// CPU is the container's CPU limit in cores; 0 means none or unknown.
	CPU float64
	// NumCPU is the node's number of CPUs; 0 means unknown.
	NumCPU int
	// GOMEMLIMITEnv is the app container's GOMEMLIMIT as its pod spec sets
	// it; empty when the spec does not set it.
	GOMEMLIMITEnv string
}

// detector raises one kind of finding. observe takes each observation in
// time order and returns the finding's current state (Since is set by the
// Set) and whether its condition holds.
type detector interface {
	observe(o Observation) (Finding, bool)
}

// Set runs every detector on each observation. It is not safe for
// concurrent use: one sampler owns it.
type Set struct {
	detectors []detector
	active    map[Kind]Finding
	leak      *leakDetector
	stacks    stackNamer
}

// New returns a Set with the given thresholds for a container with the
// given limits. It fails when opts does not validate.
func New(opts Options, limits Limits) (*Set, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	leak := newLeakDetector(opts)
	return &Set{
		leak: leak,
		detectors: []detector{
			leak,
			newMemoryDetector(opts, limits),
			&gomemlimitDetector{limits: limits},
			newGCDetector(opts),
			&gomaxprocsDetector{limits: limits},
		},
		active: map[Kind]Finding{},
	}, nil
}

// Observe feeds one observation to every detector and returns the findings
// active after it, sorted by kind. A figure that is NaN or infinite (the
// app's exposition may say anything) counts as not provided.
func (s *Set) Observe(o Observation) []Finding {
	for _, v := range []**float64{&o.Goroutines, &o.HeapBytes, &o.RuntimeBytes, &o.GCCPU, &o.AvailableCPU, &o.GOMEMLIMIT, &o.GOMAXPROCS} {
		if *v != nil && (math.IsNaN(**v) || math.IsInf(**v, 0)) {
			*v = nil
		}
	}
	for _, d := range s.detectors {
		f, holds := d.observe(o)
		if !holds {
			delete(s.active, f.Kind)
			continue
		}
		if prev, ok := s.active[f.Kind]; ok {
			f.Since = prev.Since
		} else {
			f.Since = o.Time
		}
		s.active[f.Kind] = f
	}
	if o.Restarted {
		s.stacks.forget()
	}
	s.attachStacks()
	return s.Active()
}

// Active returns the active findings, sorted by kind.
func (s *Set) Active() []Finding {
	out := make([]Finding, 0, len(s.active))
	for _, f := range s.active {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b Finding) int { return strings.Compare(string(a.Kind), string(b.Kind)) })
	return out
}
