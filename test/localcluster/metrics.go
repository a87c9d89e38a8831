package localcluster

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Samples are the values of a Prometheus text exposition, keyed by series:
// the metric name followed by its labels sorted by name, as in
// `gopherscope_injections_total{reason="injected",result="inject"}`.
// Summaries add a series per quantile (with a quantile label) and their
// _sum and _count; histograms add their _sum and _count.
type Samples map[string]float64

// Sum adds up every series of the named metric.
func (s Samples) Sum(name string) float64 {
	var total float64
	for series, v := range s {
		if series == name || strings.HasPrefix(series, name+"{") {
			total += v
		}
	}
	return total
}

// Has reports whether any series of the named metric is present.
func (s Samples) Has(name string) bool {
	for series := range s {
		if series == name || strings.HasPrefix(series, name+"{") {
			return true
		}
	}
	return false
}

// Scrape fetches a Prometheus text exposition from url and parses it.
func Scrape(ctx context.Context, url string) (Samples, error) {
	body, err := Get(ctx, url)
	if err != nil {
		return nil, err
	}
	return ParseSamples(body)
}

// ParseSamples parses a Prometheus text exposition (format 0.0.4).
func ParseSamples(text []byte) (Samples, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("parse exposition: %w", err)
	}
	out := Samples{}
	for name, fam := range families {
		for _, m := range fam.GetMetric() {
			labels := make([]string, 0, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := func(n string, extra ...string) string {
				all := append(slices.Clone(labels), extra...)
				if len(all) == 0 {
					return n
				}
				sort.Strings(all)
				return n + "{" + strings.Join(all, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[key(name)] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key(name)] = m.GetGauge().GetValue()
			case m.Untyped != nil:
				out[key(name)] = m.GetUntyped().GetValue()
			case m.Summary != nil:
				for _, q := range m.GetSummary().GetQuantile() {
					out[key(name, fmt.Sprintf("quantile=%q", strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)))] = q.GetValue()
				}
				out[key(name+"_sum")] = m.GetSummary().GetSampleSum()
				out[key(name+"_count")] = float64(m.GetSummary().GetSampleCount())
			case m.Histogram != nil:
				out[key(name+"_sum")] = m.GetHistogram().GetSampleSum()
				out[key(name+"_count")] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out, nil
}
