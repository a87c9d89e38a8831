package webhook

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gopherscope/gopherscope/injector"
)

// Results of an admission decision: the `result` label of
// gopherscope_injections_total.
const (
	// ResultInject: the pod was patched with the sidecar.
	ResultInject = "inject"
	// ResultSkip: the pod was admitted unchanged.
	ResultSkip = "skip"
	// ResultDeny: the pod was refused (strict mode).
	ResultDeny = "deny"
	// ResultError: the request could not be handled (malformed, internal error).
	ResultError = "error"
)

// Reasons the handler decides on before or instead of the injector. Together
// with injector.AllReasons they are the bounded set of `reason` label values.
const (
	// ReasonNotCreate: an operation other than CREATE; pods are only injected at creation.
	ReasonNotCreate injector.Reason = "not-create"
	// ReasonNotAPod: the request is about something else than a v1 Pod (or a subresource).
	ReasonNotAPod injector.Reason = "not-a-pod"
	// ReasonMalformed: the object could not be decoded as a Pod.
	ReasonMalformed injector.Reason = "malformed"
	// ReasonNamespaceUnknown: the namespace's labels could not be read; the pod is admitted unchanged.
	ReasonNamespaceUnknown injector.Reason = "namespace-unknown"
	// ReasonLimitRangesUnknown: the namespace's LimitRanges could not be read; the pod is admitted unchanged.
	ReasonLimitRangesUnknown injector.Reason = "limitranges-unknown"
	// ReasonInternalError: a bug (a recovered panic) or a failure to build the patch.
	ReasonInternalError injector.Reason = "internal-error"
	// ReasonWarnings: the pod was injected and its creator was warned (an
	// invalid annotation replaced by its default, a moved port, the user's
	// own prometheus.io annotations kept); an injection without warnings
	// counts as injector.ReasonInjected. Only ever with ResultInject.
	ReasonWarnings injector.Reason = "warnings"
)

// handlerReasons are the reasons the handler itself gives, with their result.
var handlerReasons = []struct {
	result string
	reason injector.Reason
}{
	{ResultSkip, ReasonNotCreate},
	{ResultSkip, ReasonNotAPod},
	{ResultError, ReasonMalformed},
	{ResultSkip, ReasonNamespaceUnknown},
	{ResultSkip, ReasonLimitRangesUnknown},
	{ResultError, ReasonInternalError},
	{ResultInject, ReasonWarnings},
}

// MetricInjectionsTotal is the name of the decisions counter.
const MetricInjectionsTotal = "gopherscope_injections_total"

// Metrics counts the handler's decisions.
type Metrics struct {
	injections *prometheus.CounterVec
}

// NewMetrics creates the injections counter and registers it with reg. If reg
// already holds it (the webhook started twice in one process), the registered
// counter is used. The label values the handler can produce are
// pre-initialised to zero, so rate() sees every series from the start.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricInjectionsTotal,
		Help: "Admission decisions on pods, by result (inject, skip, deny, error) and reason.",
	}, []string{"result", "reason"})
	counter, err := registerCounterVec(reg, MetricInjectionsTotal, counter)
	if err != nil {
		return nil, err
	}
	m := &Metrics{injections: counter}
	for _, r := range handlerReasons {
		m.injections.WithLabelValues(r.result, string(r.reason))
	}
	for _, r := range injector.AllReasons() {
		m.injections.WithLabelValues(resultOfReason(r), string(r))
	}
	return m, nil
}

// registerCounterVec registers counter, named name, with reg, or returns
// the counter reg already holds under that name.
func registerCounterVec(reg prometheus.Registerer, name string, counter *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	err := reg.Register(counter)
	if err == nil {
		return counter, nil
	}
	var already prometheus.AlreadyRegisteredError
	if !errors.As(err, &already) {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	existing, ok := already.ExistingCollector.(*prometheus.CounterVec)
	if !ok {
		return nil, fmt.Errorf("register %s: a different collector has that name", name)
	}
	return existing, nil
}

// observe counts one decision. A nil *Metrics counts nothing.
func (m *Metrics) observe(result string, reason injector.Reason) {
	if m == nil {
		return
	}
	m.injections.WithLabelValues(result, string(reason)).Inc()
}

// resultOfReason is the result that usually goes with an injector reason;
// it only chooses which series start at zero. Observed decisions take their
// result from the decision's action.
func resultOfReason(r injector.Reason) string {
	switch r {
	case injector.ReasonInjected:
		return ResultInject
	case injector.ReasonInvalidAnnotations:
		return ResultDeny
	default:
		return ResultSkip
	}
}

// resultOfAction maps the injector's action to the metric's result.
func resultOfAction(a injector.Action) string {
	switch a {
	case injector.ActionInject:
		return ResultInject
	case injector.ActionDeny:
		return ResultDeny
	default:
		return ResultSkip
	}
}
