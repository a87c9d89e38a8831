package sidecar

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gopherscope/gopherscope/sidecar/source"
)

// healthDescs describe the sidecar's own health series. They live under
// gopherscope_* only: the sidecar never exposes its own go_* series, which
// would collide with the app's.
type healthDescs struct {
	targetUp, sourceUp, scrapeDuration, restarts, lastSample, droppedSeries, finding *prometheus.Desc
}

func newHealthDescs() healthDescs {
	return healthDescs{
		targetUp: prometheus.NewDesc("gopherscope_target_up",
			"Whether the last sample got an answer from at least one of the app's endpoints (1) or none (0).", nil, nil),
		sourceUp: prometheus.NewDesc("gopherscope_source_up",
			"Whether the last attempt to read this endpoint of the app succeeded.", []string{"source"}, nil),
		scrapeDuration: prometheus.NewDesc("gopherscope_scrape_duration_seconds",
			"How long the last read of this endpoint of the app took.", []string{"source"}, nil),
		restarts: prometheus.NewDesc("gopherscope_target_restarts_total",
			"Restarts of the app detected by the sidecar (a counter or the process identity changed).", nil, nil),
		lastSample: prometheus.NewDesc("gopherscope_last_sample_timestamp_seconds",
			"When the sidecar last sampled the app, in seconds since 1970.", nil, nil),
		droppedSeries: prometheus.NewDesc("gopherscope_dropped_series_total",
			"Series of the app's own go_* and process_* families left out by the sidecar's limits, by the limit that left them out.", []string{"reason"}, nil),
		finding: prometheus.NewDesc("gopherscope_finding",
			"A finding about the app, active after the last sample (1); its evidence and advice are at /api/v1/findings.", []string{"kind", "severity"}, nil),
	}
}

// observedSource is the one wrapper every source is called through, as
// node_exporter calls its collectors: it times each attempt and remembers
// whether it succeeded, for gopherscope_source_up and
// gopherscope_scrape_duration_seconds. It is owned by the sampling goroutine.
type observedSource struct {
	source.Source
	up       bool
	duration float64 // seconds, of the last attempt
	lastErr  string  // of the last failed attempt; "" when up
	// lastCause is the error behind lastErr, which status explains.
	lastCause error
	setup     sourceSetup
}

// fetch makes one attempt into r and records it. It logs only transitions,
// so a target that stays down does not flood the log.
func (o *observedSource) fetch(ctx context.Context, r *source.Readings, now func() time.Time, log logr.Logger) {
	start := now()
	err := o.FetchInto(ctx, r)
	if errors.Is(err, source.ErrBackingOff) {
		o.up = false
		return
	}
	o.duration = now().Sub(start).Seconds()
	wasUp, hadErr := o.up, o.lastErr != ""
	o.up = err == nil
	if err == nil {
		o.lastErr, o.lastCause = "", nil
		if !wasUp {
			log.Info("source up", "source", o.Name(), "port", o.Port())
		}
		return
	}
	o.lastErr, o.lastCause = err.Error(), err
	if wasUp || !hadErr {
		log.Info("source down", "source", o.Name(), "error", o.lastErr)
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Values of the reason label of gopherscope_dropped_series_total.
const (
	reasonFamilyLimit = "family_limit"
	reasonSeriesLimit = "series_limit"
	reasonSampleLimit = "sample_limit"
)

// droppedMetrics returns gopherscope_dropped_series_total for the series
// dropped since the sidecar started.
func (d healthDescs) droppedMetrics(dropped source.Dropped) []prometheus.Metric {
	return []prometheus.Metric{
		prometheus.MustNewConstMetric(d.droppedSeries, prometheus.CounterValue, float64(dropped.FamilyLimit), reasonFamilyLimit),
		prometheus.MustNewConstMetric(d.droppedSeries, prometheus.CounterValue, float64(dropped.SeriesLimit), reasonSeriesLimit),
		prometheus.MustNewConstMetric(d.droppedSeries, prometheus.CounterValue, float64(dropped.SampleLimit), reasonSampleLimit),
	}
}

// metrics returns the health series for one sample.
func (d healthDescs) metrics(up bool, sources []*observedSource, restarts uint64, sampledAt float64) []prometheus.Metric {
	out := []prometheus.Metric{
		prometheus.MustNewConstMetric(d.targetUp, prometheus.GaugeValue, boolValue(up)),
		prometheus.MustNewConstMetric(d.restarts, prometheus.CounterValue, float64(restarts)),
		prometheus.MustNewConstMetric(d.lastSample, prometheus.GaugeValue, sampledAt),
	}
	for _, s := range sources {
		out = append(out,
			prometheus.MustNewConstMetric(d.sourceUp, prometheus.GaugeValue, boolValue(s.up), s.Name()),
			prometheus.MustNewConstMetric(d.scrapeDuration, prometheus.GaugeValue, s.duration, s.Name()),
		)
	}
	return out
}
