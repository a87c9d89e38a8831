package sidecar

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// constMetrics turns normalized families into immutable const metrics, built
// once per sample so that every scrape of /metrics only re-sends them. Series
// that cannot be expressed (invalid names or labels, unsupported types) are
// left out and reported in the error; the rest are kept.
func constMetrics(fams []*dto.MetricFamily) ([]prometheus.Metric, error) {
	out := make([]prometheus.Metric, 0, len(fams))
	var errs []error
	for _, f := range fams {
		descs := map[string]*prometheus.Desc{}
		for _, m := range f.GetMetric() {
			names := make([]string, len(m.GetLabel()))
			values := make([]string, len(m.GetLabel()))
			for i, l := range m.GetLabel() {
				names[i], values[i] = l.GetName(), l.GetValue()
			}
			key := strings.Join(names, "\x00")
			desc, ok := descs[key]
			if !ok {
				desc = prometheus.NewDesc(f.GetName(), f.GetHelp(), names, nil)
				descs[key] = desc
			}
			metric, err := constMetric(desc, f.GetType(), m, values)
			if err != nil {
				errs = append(errs, fmt.Errorf("series %s: %w", f.GetName(), err))
				continue
			}
			out = append(out, metric)
		}
	}
	return out, errors.Join(errs...)
}

func constMetric(desc *prometheus.Desc, typ dto.MetricType, m *dto.Metric, labelValues []string) (prometheus.Metric, error) {
	switch typ {
	case dto.MetricType_COUNTER:
		return prometheus.NewConstMetric(desc, prometheus.CounterValue, m.GetCounter().GetValue(), labelValues...)
	case dto.MetricType_GAUGE:
		return prometheus.NewConstMetric(desc, prometheus.GaugeValue, m.GetGauge().GetValue(), labelValues...)
	case dto.MetricType_UNTYPED:
		return prometheus.NewConstMetric(desc, prometheus.UntypedValue, m.GetUntyped().GetValue(), labelValues...)
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		quantiles := make(map[float64]float64, len(s.GetQuantile()))
		for _, q := range s.GetQuantile() {
			quantiles[q.GetQuantile()] = q.GetValue()
		}
		return prometheus.NewConstSummary(desc, s.GetSampleCount(), s.GetSampleSum(), quantiles, labelValues...)
	case dto.MetricType_HISTOGRAM:
		h := m.GetHistogram()
		buckets := make(map[float64]uint64, len(h.GetBucket()))
		for _, b := range h.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), +1) { // +Inf is implied by the count
				buckets[b.GetUpperBound()] = b.GetCumulativeCount()
			}
		}
		return prometheus.NewConstHistogram(desc, h.GetSampleCount(), h.GetSampleSum(), buckets, labelValues...)
	default:
		return nil, fmt.Errorf("type %s is not passed through", typ)
	}
}
