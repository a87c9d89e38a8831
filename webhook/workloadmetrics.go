package webhook

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gopherscope/gopherscope/injector"
)

// Results of a workload check: the `result` label of
// gopherscope_workload_checks_total.
const (
	// CheckAllowed: admitted with nothing to say (no warning, an unchanged
	// template, not a workload).
	CheckAllowed = "allowed"
	// CheckWarned: admitted with the warnings its pods would get.
	CheckWarned = "warned"
	// CheckDenied: refused, as its pods would be (strict mode).
	CheckDenied = "denied"
	// CheckError: not checked (malformed, namespace or LimitRanges unknown, internal
	// error); the API server admits it (failurePolicy Ignore).
	CheckError = "error"
)

// Reasons of workload checks that are not the injector's; they appear in
// the log line only.
const (
	// ReasonNotAWorkload: the request is not a CREATE or UPDATE of one of WorkloadKinds.
	ReasonNotAWorkload injector.Reason = "not-a-workload"
	// ReasonTemplateUnchanged: an UPDATE that leaves the pod template as it was.
	ReasonTemplateUnchanged injector.Reason = "template-unchanged"
)

// MetricWorkloadChecksTotal is the name of the workload checks counter.
const MetricWorkloadChecksTotal = "gopherscope_workload_checks_total"

// WorkloadMetrics counts the workload validator's checks.
type WorkloadMetrics struct {
	checks *prometheus.CounterVec
}

// NewWorkloadMetrics creates the workload checks counter and registers it
// with reg, or uses the one reg already holds. Every result starts at zero.
func NewWorkloadMetrics(reg prometheus.Registerer) (*WorkloadMetrics, error) {
	counter, err := registerCounterVec(reg, MetricWorkloadChecksTotal, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricWorkloadChecksTotal,
		Help: "Checks of workloads' pod templates at CREATE and UPDATE, by result (allowed, warned, denied, error).",
	}, []string{"result"}))
	if err != nil {
		return nil, err
	}
	for _, r := range []string{CheckAllowed, CheckWarned, CheckDenied, CheckError} {
		counter.WithLabelValues(r)
	}
	return &WorkloadMetrics{checks: counter}, nil
}

// observe counts one check. A nil *WorkloadMetrics counts nothing.
func (m *WorkloadMetrics) observe(result string) {
	if m == nil {
		return
	}
	m.checks.WithLabelValues(result).Inc()
}
