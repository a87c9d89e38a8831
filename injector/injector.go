package injector

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

// Namespace is what the injector knows about the namespace a pod is created in.
type Namespace struct {
	// Name of the namespace.
	Name string
	// Labels of the namespace (the inject label among them).
	Labels map[string]string
	// LimitRanges are the namespace's LimitRanges: the injected pod must
	// satisfy their Container and Pod limits, which the API server checks
	// after every mutating webhook.
	LimitRanges []corev1.LimitRange
	// Offline is set by callers with no namespace to look at (the CLI): the
	// namespace then counts as opted in, and only the pod's own opt-out and
	// the exclusions (hostNetwork, gopherscope's own pods) apply.
	Offline bool
}

// Action is what the injector decided to do with a pod.
type Action string

// The actions.
const (
	// ActionInject means the returned pod carries the sidecar.
	ActionInject Action = "inject"
	// ActionSkip means the pod is admitted unchanged.
	ActionSkip Action = "skip"
	// ActionDeny means the pod must be refused (strict mode only).
	ActionDeny Action = "deny"
)

// Decision is the injector's verdict on one pod.
type Decision struct {
	// Action is inject, skip or deny.
	Action Action `json:"action"`
	// Reason is a short, fixed, machine-readable word (a metric label value).
	Reason Reason `json:"reason"`
	// Message explains the decision to a person.
	Message string `json:"message"`
}

// Reason explains a Decision in one word from a fixed set.
type Reason string

// Inject decides whether pod gets the sidecar and returns the resulting pod,
// the warnings to show the user, and the decision. It never modifies pod: the
// returned pod is a copy (nil only when pod is nil). It is pure, deterministic
// and idempotent: the same inputs give the same output, and injecting an
// injected pod changes nothing. It only appends and sets: nothing the user
// wrote is removed or reordered.
//
// A NativeSidecar of Auto that the caller did not resolve counts as Always.
func Inject(pod *corev1.Pod, ns Namespace, cfg *config.Config) (*corev1.Pod, []string, Decision) {
	if pod == nil || cfg == nil {
		return nil, nil, Decision{Action: ActionSkip, Reason: ReasonInvalidInput, Message: "no pod or no configuration to inject with"}
	}
	p, warnings, decision := decide(pod, ns, cfg)
	if decision.Action != ActionInject {
		return pod.DeepCopy(), warnings, decision
	}
	out, warnings := build(pod, &p, cfg, warnings)
	return out, warnings, decision
}

// build returns a copy of pod with the sidecar p describes, the
// annotations of an injected pod and its sidecar-version label, and every warning of the injection: those
// of decide, then those the annotations give. The status annotation records
// them all.
func build(pod *corev1.Pod, p *plan, cfg *config.Config, warnings []string) (*corev1.Pod, []string) {
	out := pod.DeepCopy()
	for name, q := range p.podRequests {
		if out.Spec.Resources.Requests == nil {
			out.Spec.Resources.Requests = corev1.ResourceList{}
		}
		out.Spec.Resources.Requests[name] = q.DeepCopy()
	}
	prior, _ := ParseStatus(pod.Annotations[config.AnnotationStatus])
	var tuned map[string]string
	gomemlimit, tuneWarning := tuneGOMEMLIMIT(out, &p.settings, cfg.Tune.GOMEMLIMIT.Percent, prior.Tuned[config.EnvGOMEMLIMIT])
	if gomemlimit != "" {
		tuned = map[string]string{config.EnvGOMEMLIMIT: gomemlimit}
	}
	if tuneWarning != "" {
		warnings = append(slices.Clip(warnings), tuneWarning)
	}
	// The app container, tuned: the sidecar is told of its GOMEMLIMIT.
	app := &out.Spec.Containers[slices.IndexFunc(out.Spec.Containers, func(c corev1.Container) bool { return c.Name == p.settings.appContainer })]
	sidecar := buildSidecar(p, app, cfg)
	if p.native {
		out.Spec.InitContainers = append(out.Spec.InitContainers, sidecar)
	} else {
		out.Spec.Containers = append(out.Spec.Containers, sidecar)
	}
	st := Status{
		Version:         cmp.Or(cfg.InjectorVersion, "unknown"),
		Sidecar:         config.SidecarContainerName,
		Native:          p.native,
		NativeBasis:     cfg.NativeSidecarBasis,
		Port:            p.port,
		DiagnosticsPort: p.diagnosticsPort,
		Target: StatusTarget{
			Container:   p.settings.appContainer,
			Ports:       p.settings.targetPorts,
			ExpvarPath:  p.settings.expvarPath,
			PprofPath:   p.settings.pprofPath,
			MetricsPath: p.settings.metricsPath,
		},
		Tuned:    tuned,
		Warnings: warnings,
	}
	annotate(out, &st)
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	out.Labels[config.LabelSidecarVersion] = SidecarVersion(p.settings.image)
	return out, st.Warnings
}
