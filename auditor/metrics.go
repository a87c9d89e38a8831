package auditor

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Names of the auditor's gauges.
const (
	// MetricUninjectedPods counts the uninjected pods by namespace.
	MetricUninjectedPods = "gopherscope_uninjected_pods"
	// MetricWebhookUnreachable is 1 while a pod created while the webhook
	// was ready lacks the sidecar, else 0.
	MetricWebhookUnreachable = "gopherscope_webhook_unreachable"
)

// Metrics holds the auditor's gauges.
type Metrics struct {
	uninjected  *prometheus.GaugeVec
	unreachable prometheus.Gauge
}

// NewMetrics creates the gauges and registers them with reg. If reg already
// holds them (the auditor started twice in one process), the registered
// gauges are used.
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
	unreachable := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: MetricWebhookUnreachable,
		Help: "1 while a pod created while the webhook was ready lacks the sidecar: the API server cannot reach the webhook " +
			"(caBundle, NetworkPolicy, Service), and the auditor evicts nothing; else 0. Reported by the elected replica only.",
	})
	if err := reg.Register(unreachable); err != nil {
		var already prometheus.AlreadyRegisteredError
		existing, ok := prometheus.Gauge(nil), false
		if errors.As(err, &already) {
			existing, ok = already.ExistingCollector.(prometheus.Gauge)
		}
		if !ok {
			return nil, fmt.Errorf("register %s: %w", MetricWebhookUnreachable, err)
		}
		unreachable = existing
	}
	return &Metrics{uninjected: gauge, unreachable: unreachable}, nil
}

// setUnreachable sets the unreachable gauge.
func (m *Metrics) setUnreachable(unreachable bool) {
	if m == nil {
		return
	}
	v := 0.0
	if unreachable {
		v = 1
	}
	m.unreachable.Set(v)
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
