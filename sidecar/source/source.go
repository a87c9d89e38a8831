package source

import (
	"context"

	dto "github.com/prometheus/client_model/go"
)

// Source reads one of the app's endpoints. The sampler calls every enabled
// source the same way, through one wrapper that records its health, so
// adding a source adds a type here and nothing in the sampler.
type Source interface {
	// Name is the source's value of the source label of the health series.
	Name() string
	// FetchInto reads the endpoint once into the source's own field of r.
	// While the source waits after failures it returns ErrBackingOff
	// without asking the app.
	FetchInto(ctx context.Context, r *Readings) error
	// Port returns the port the endpoint last answered on, or 0.
	Port() int
}

// Readings are what the sources read for one sample: the normalizer's
// input. Each source writes only its own field, so sources may fetch
// concurrently. A nil field means that source gave nothing this time
// (absent, failing or backing off).
type Readings struct {
	// Expvar is the expvar source's reading.
	Expvar *ExpvarData
	// Profiles is the pprof source's reading.
	Profiles *ProfileCounts
	// Prometheus is the app's own go_* and process_* families; empty but
	// not nil when the app answered without any.
	Prometheus []*dto.MetricFamily
	// PrometheusDropped is what the limits left out of Prometheus.
	PrometheusDropped Dropped
}

// Empty reports whether no source gave anything.
func (r Readings) Empty() bool {
	return r.Expvar == nil && r.Profiles == nil && r.Prometheus == nil
}
