package normalize

import (
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/gopherscope/gopherscope/sidecar/source"
)

// Input is what the sources read for one sample. Normalize takes ownership
// of its Prometheus families: it adjusts their counters in place.
type Input = source.Readings

// Output is one normalized sample.
type Output struct {
	// Families are the app's series under client_golang's names, sorted by
	// name, no two with the same name.
	Families []*dto.MetricFamily
	// Restarted says the app restarted since the previous sample with data.
	Restarted bool
}

// Normalizer maps source readings onto client_golang's series and keeps the
// exposed counters monotonic across app restarts. It is not safe for
// concurrent use: one sampler owns it.
type Normalizer struct {
	counters counterOffsets
	identity identity
	restarts uint64
}

// New returns a Normalizer with no history.
func New() *Normalizer {
	return &Normalizer{counters: counterOffsets{series: map[string]*counterState{}}}
}

// Restarts returns how many app restarts have been detected.
func (n *Normalizer) Restarts() uint64 { return n.restarts }

// Normalize merges one sample's readings. When several sources provide the
// same family, one is taken whole by a fixed priority, so nothing is ever
// duplicated: the app's own Prometheus exposition first (it is already in
// client_golang's names and semantics), then expvar (memstats, GC pauses),
// then the pprof index (goroutines, threads). An empty input yields an empty
// output and leaves the restart state untouched.
func (n *Normalizer) Normalize(in Input) Output {
	if in.Empty() {
		return Output{}
	}
	byName := map[string]*dto.MetricFamily{}
	add := func(fams []*dto.MetricFamily) {
		for _, f := range fams {
			byName[f.GetName()] = f
		}
	}
	if in.Profiles != nil {
		add(fromProfiles(in.Profiles))
	}
	if in.Expvar != nil {
		add(fromExpvar(in.Expvar))
	}
	add(in.Prometheus)

	fams := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		fams = append(fams, f)
	}
	slices.SortFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })

	restarted := n.identity.changed(in, byName)
	restarted = n.counters.apply(fams, restarted)
	if restarted {
		n.restarts++
	}
	return Output{Families: fams, Restarted: restarted}
}

// identity remembers what identifies the app's process across samples.
type identity struct {
	cmdline   uint64
	startTime float64
}

// changed reports whether the sample comes from another process than the
// previous one: a different command line (expvar) or process start time
// (process_start_time_seconds). It records the new values.
func (id *identity) changed(in Input, byName map[string]*dto.MetricFamily) bool {
	changed := false
	if in.Expvar != nil && in.Expvar.CmdlineHash != 0 {
		changed = id.cmdline != 0 && id.cmdline != in.Expvar.CmdlineHash
		id.cmdline = in.Expvar.CmdlineHash
	}
	if f, ok := byName[ProcessStartTime]; ok && len(f.GetMetric()) == 1 && f.GetMetric()[0].GetGauge() != nil {
		start := f.GetMetric()[0].GetGauge().GetValue()
		if id.startTime != 0 && start != id.startTime {
			changed = true
		}
		id.startTime = start
	}
	return changed
}
