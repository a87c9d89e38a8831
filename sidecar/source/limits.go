package source

import (
	dto "github.com/prometheus/client_model/go"
)

// Limits on what the sidecar keeps of the app's own exposition. They are
// applied while the body is read, before the parser sees a line, so the
// parser never holds more than MaxSamples sample lines however many series
// the app answers; what they leave out is counted in Dropped.
const (
	// MaxSeriesPerFamily is the most series kept of one go_* or process_*
	// family (client_golang's have one each).
	MaxSeriesPerFamily = 100
	// MaxSeries is the most series kept of one exposition (client_golang's
	// Go and process collectors have about 60).
	MaxSeries = 1000
	// MaxSamples is the most sample lines kept of one exposition: each
	// histogram bucket, summary quantile, _sum and _count is one.
	MaxSamples = 10000
)

// Dropped counts the series of one exposition that the limits left out, by
// the limit that left them out.
type Dropped struct {
	// FamilyLimit counts series of a family that already had
	// MaxSeriesPerFamily series.
	FamilyLimit uint64
	// SeriesLimit counts series read after MaxSeries were kept.
	SeriesLimit uint64
	// SampleLimit counts series whose samples would have passed MaxSamples.
	SampleLimit uint64
}

// Add returns the sum of d and o.
func (d Dropped) Add(o Dropped) Dropped {
	return Dropped{
		FamilyLimit: d.FamilyLimit + o.FamilyLimit,
		SeriesLimit: d.SeriesLimit + o.SeriesLimit,
		SampleLimit: d.SampleLimit + o.SampleLimit,
	}
}

// budget keeps the counts the limits are checked against, for one
// exposition.
type budget struct {
	perFamily map[string]int // series kept, by family name
	series    int            // series kept
	samples   int            // sample lines kept
	dropped   Dropped
}

func newBudget() *budget { return &budget{perFamily: map[string]int{}} }

// admitSeries decides on a new series of family before any of its samples:
// it is kept, or counted as dropped by the first limit it meets.
func (b *budget) admitSeries(family string) bool {
	switch {
	case b.perFamily[family] >= MaxSeriesPerFamily:
		b.dropped.FamilyLimit++
	case b.series >= MaxSeries:
		b.dropped.SeriesLimit++
	case b.samples >= MaxSamples:
		b.dropped.SampleLimit++
	default:
		b.perFamily[family]++
		b.series++
		return true
	}
	return false
}

// addSamples adds n samples to an admitted series of family that already
// has counted samples. Past MaxSamples the whole series is taken back,
// counted as dropped, and addSamples returns false.
func (b *budget) addSamples(family string, counted, n int) bool {
	if b.samples+n <= MaxSamples {
		b.samples += n
		return true
	}
	b.samples -= counted
	b.series--
	if b.perFamily[family]--; b.perFamily[family] == 0 {
		delete(b.perFamily, family)
	}
	b.dropped.SampleLimit++
	return false
}

// admitFamily keeps the series of a decoded family that the limits allow,
// in order, and counts the others.
func (b *budget) admitFamily(f *dto.MetricFamily) {
	kept := f.Metric[:0]
	for _, m := range f.GetMetric() {
		if b.admitSeries(f.GetName()) && b.addSamples(f.GetName(), 0, samplesOf(m)) {
			kept = append(kept, m)
		}
	}
	clear(f.Metric[len(kept):])
	f.Metric = kept
}

// samplesOf is how many sample lines a series takes in the text format.
func samplesOf(m *dto.Metric) int {
	switch {
	case m.GetSummary() != nil:
		return len(m.GetSummary().GetQuantile()) + 2
	case m.GetHistogram() != nil:
		return len(m.GetHistogram().GetBucket()) + 2
	default:
		return 1
	}
}
