package sidecar

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/gopherscope/gopherscope/sidecar/findings"
)

// Snapshot is one sample, immutable once published. Its exposition is
// rendered once per format, on the first scrape that asks for it, and every
// later scraper gets the same bytes: N scrapers cost the app nothing and the
// sidecar little more than one.
type Snapshot struct {
	// Time is when the sample started.
	Time time.Time
	// TargetUp says whether any of the app's endpoints answered.
	TargetUp bool
	// Sources are the health of each of the app's endpoints in this sample.
	Sources []SourceStatus
	// Findings are the findings active after this sample, sorted by kind.
	Findings []findings.Finding

	// gcPauseP99 is the 99th percentile of the app's last gcPauses GC
	// pauses, from its expvar memstats; nil when this sample has none.
	gcPauseP99 *float64
	gcPauses   int

	families []*dto.MetricFamily // the app's normalized series
	health   []prometheus.Metric // the sidecar's gopherscope_* series

	gatherOnce sync.Once
	gathered   []*dto.MetricFamily

	mu        sync.Mutex
	encodings map[expfmt.Format]*encoding
}

// encoding is a snapshot's exposition in one format, plain and gzipped.
type encoding struct {
	plainOnce, gzipOnce sync.Once
	plain, gzipped      []byte
}

// exposition returns the snapshot's exposition in format, rendering it on
// the first call for that format and (separately) its gzipped form.
func (s *Snapshot) exposition(format expfmt.Format, gzipped bool, log logr.Logger) []byte {
	s.mu.Lock()
	if s.encodings == nil {
		s.encodings = map[expfmt.Format]*encoding{}
	}
	e := s.encodings[format]
	if e == nil {
		e = &encoding{}
		s.encodings[format] = e
	}
	s.mu.Unlock()

	e.plainOnce.Do(func() { e.plain = encode(s.gather(log), format, log) })
	if !gzipped {
		return e.plain
	}
	e.gzipOnce.Do(func() { e.gzipped = gzipBytes(e.plain) })
	return e.gzipped
}

// gzipWriters are reused: each holds about a megabyte of compressor state.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	_, _ = zw.Write(b) // a bytes.Buffer does not fail
	_ = zw.Close()
	return buf.Bytes()
}

// gather checks and sorts the snapshot's series once, through a private
// registry of const metrics (never the default registry): series the
// registry refuses are left out and logged, the rest are kept.
func (s *Snapshot) gather(log logr.Logger) []*dto.MetricFamily {
	s.gatherOnce.Do(func() {
		metrics, err := constMetrics(s.families)
		if err != nil {
			log.V(1).Info("series left out of the exposition", "error", err.Error())
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(constCollector(append(metrics, s.health...)))
		s.gathered, err = reg.Gather()
		if err != nil {
			log.Info("series left out of the exposition", "error", err.Error())
		}
	})
	return s.gathered
}

// encode writes families in format; a family that fails is logged and left out.
func encode(fams []*dto.MetricFamily, format expfmt.Format, log logr.Logger) []byte {
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, format)
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			log.Info("series left out of the exposition", "error", err.Error())
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		_ = c.Close() // OpenMetrics' "# EOF", into a buffer: it cannot fail
	}
	return buf.Bytes()
}

// constCollector sends fixed metrics. It describes nothing up front (an
// unchecked collector): the app's series are only known once sampled. The
// registry still rejects duplicates and inconsistencies.
type constCollector []prometheus.Metric

// Describe sends nothing: the collector is unchecked.
func (constCollector) Describe(chan<- *prometheus.Desc) {}

// Collect sends the metrics.
func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

// constMetrics turns normalized families into const metrics. Series that
// cannot be expressed (invalid names or labels, unsupported types) are left
// out and reported in the error; the rest are kept.
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
