package normalize

import (
	"math"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// maxTrackedCounters bounds the restart state; counter series beyond it are
// exposed as read.
const maxTrackedCounters = 10000

// counterState is one counter-like value's last raw reading and the offset
// added to it so that the exposed value never goes down.
type counterState struct {
	last, offset float64
}

// counterOffsets keeps every counter-like value monotonic across app
// restarts. Counter-like values are counters, the _count and _sum of
// summaries and histograms, and histogram buckets.
//
// A restart is a sample in which any counter-like value is lower than its
// last reading (or the process identity changed). On a restart, every
// tracked value's last reading is added to its offset, so the exposed value
// continues from where the old process left it: exposed = raw + offset.
type counterOffsets struct {
	series map[string]*counterState
}

// counterValue is a counter-like value inside a family.
type counterValue struct {
	key string
	get func() float64
	set func(float64)
}

// apply detects a restart (or takes one already detected), then rewrites the
// families' counter-like values to their exposed values. It returns whether
// a restart happened.
func (c *counterOffsets) apply(fams []*dto.MetricFamily, restarted bool) bool {
	values := counterValues(fams)
	if !restarted {
		for _, v := range values {
			if st, ok := c.series[v.key]; ok && v.get() < st.last {
				restarted = true
				break
			}
		}
	}
	if restarted {
		for _, st := range c.series {
			st.offset += st.last
			st.last = 0
		}
	}
	for _, v := range values {
		raw := v.get()
		if math.IsNaN(raw) || math.IsInf(raw, 0) {
			continue
		}
		st, ok := c.series[v.key]
		if !ok {
			if len(c.series) >= maxTrackedCounters {
				continue
			}
			st = &counterState{}
			c.series[v.key] = st
		}
		st.last = raw
		if st.offset != 0 {
			v.set(raw + st.offset)
		}
	}
	return restarted
}

// counterValues lists the counter-like values of fams with stable keys.
func counterValues(fams []*dto.MetricFamily) []counterValue {
	var out []counterValue
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := seriesKey(f.GetName(), m.GetLabel())
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				if c := m.GetCounter(); c != nil && c.Value != nil {
					out = append(out, floatValue(key, &c.Value))
				}
			case dto.MetricType_SUMMARY:
				if s := m.GetSummary(); s != nil {
					out = appendCountSum(out, key, &s.SampleCount, &s.SampleSum)
				}
			case dto.MetricType_HISTOGRAM:
				if h := m.GetHistogram(); h != nil {
					out = appendCountSum(out, key, &h.SampleCount, &h.SampleSum)
					for _, b := range h.GetBucket() {
						if b.CumulativeCount != nil {
							bk := key + "|le=" + strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)
							out = append(out, uintValue(bk, &b.CumulativeCount))
						}
					}
				}
			}
		}
	}
	return out
}

func appendCountSum(out []counterValue, key string, count **uint64, sum **float64) []counterValue {
	if *count != nil {
		out = append(out, uintValue(key+"|count", count))
	}
	if *sum != nil {
		out = append(out, floatValue(key+"|sum", sum))
	}
	return out
}

func floatValue(key string, p **float64) counterValue {
	return counterValue{key: key, get: func() float64 { return **p }, set: func(v float64) { *p = &v }}
}

func uintValue(key string, p **uint64) counterValue {
	return counterValue{
		key: key,
		get: func() float64 { return float64(**p) },
		set: func(v float64) {
			u := uint64(math.MaxUint64)
			if v < math.MaxUint64 {
				u = uint64(v)
			}
			*p = &u
		},
	}
}

// seriesKey identifies a series by name and labels (in the order given; the
// parsers and our own families give them sorted).
func seriesKey(name string, labels []*dto.LabelPair) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name)
	for _, l := range labels {
		b.WriteByte('|')
		b.WriteString(l.GetName())
		b.WriteByte('=')
		b.WriteString(l.GetValue())
	}
	return b.String()
}
