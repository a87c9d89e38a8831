package sidecar

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Source names, the values of the source label of the health series.
const (
	sourceExpvar     = "expvar"
	sourcePprof      = "pprof"
	sourcePrometheus = "prometheus"
)

// healthDescs describe the sidecar's own health series. They live under
// gopherscope_* only: the sidecar never exposes its own go_* series, which
// would collide with the app's.
type healthDescs struct {
	targetUp, sourceUp, scrapeDuration, restarts, lastSample *prometheus.Desc
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
	}
}

// sourceStatus is what the sampler remembers about one source.
type sourceStatus struct {
	name     string
	up       bool
	duration float64 // seconds, of the last attempt
	lastErr  string  // of the last failed attempt; "" when up
	port     int
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metrics returns the health series for one sample.
func (d healthDescs) metrics(up bool, sources []*sourceStatus, restarts uint64, sampledAt float64) []prometheus.Metric {
	out := []prometheus.Metric{
		prometheus.MustNewConstMetric(d.targetUp, prometheus.GaugeValue, boolValue(up)),
		prometheus.MustNewConstMetric(d.restarts, prometheus.CounterValue, float64(restarts)),
		prometheus.MustNewConstMetric(d.lastSample, prometheus.GaugeValue, sampledAt),
	}
	for _, s := range sources {
		out = append(out,
			prometheus.MustNewConstMetric(d.sourceUp, prometheus.GaugeValue, boolValue(s.up), s.name),
			prometheus.MustNewConstMetric(d.scrapeDuration, prometheus.GaugeValue, s.duration, s.name),
		)
	}
	return out
}
