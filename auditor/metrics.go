package auditor

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// MetricUninjectedPods is the name of the gauge of uninjected pods.
const MetricUninjectedPods = "gopherscope_uninjected_pods"

// Metrics holds the auditor's gauge.
type Metrics struct {
	uninjected *prometheus.GaugeVec
}

// NewMetrics creates the gauge and registers it with reg. If reg already
// holds it (the auditor started twice in one process), the registered gauge
// is used.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: MetricUninjectedPods,
		Help: "Pods that should carry the gopherscope sidecar and do not (created while the webhook was down, " +
			"or before their namespace opted in), by namespace. Reported by the elected replica only.",
	}, []string{"namespace"})
	if err := reg.Register(gauge); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			return nil, fmt.Errorf("register %s: %w", MetricUninjectedPods, err)
		}
		existing, ok := already.ExistingCollector.(*prometheus.GaugeVec)
		if !ok {
			return nil, fmt.Errorf("register %s: a different collector has that name", MetricUninjectedPods)
		}
		gauge = existing
	}
	return &Metrics{uninjected: gauge}, nil
}

// setUninjected sets a namespace's count; zero deletes its series, so a
// namespace that is fixed, or deleted, leaves nothing stale behind.
func (m *Metrics) setUninjected(namespace string, n int) {
	if m == nil {
		return
	}
	if n == 0 {
		m.uninjected.DeleteLabelValues(namespace)
		return
	}
	m.uninjected.WithLabelValues(namespace).Set(float64(n))
}
