package injector

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

// Namespace is what the injector knows about the namespace a pod is created in.
type Namespace struct {
	// Name of the namespace.
	Name string
	// Labels of the namespace (the inject label among them).
	Labels map[string]string
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
	sel := selectPod(pod, ns, cfg)
	if !sel.selected {
		var warnings []string
		if sel.decision.Reason == ReasonNotOptedIn {
			warnings = sel.warnings
		}
		return pod.DeepCopy(), warnings, sel.decision
	}
	warnings := sel.warnings
	hasStatus, hasSidecar := injectionMarks(pod)
	switch {
	case hasStatus && hasSidecar:
		return pod.DeepCopy(), nil, skip(ReasonAlreadyInjected, fmt.Sprintf("the pod already has the %s container and the %s annotation", config.SidecarContainerName, config.AnnotationStatus))
	case hasSidecar:
		// Someone else's container by our name, or an injection whose
		// status was stripped: adding a second one would make the pod
		// invalid, and replacing it would remove what the user wrote.
		return pod.DeepCopy(), []string{fmt.Sprintf("the pod has a container named %s but no %s annotation; it is treated as already injected and left unchanged",
			config.SidecarContainerName, config.AnnotationStatus)}, skip(ReasonAlreadyInjected, fmt.Sprintf("the pod already has a %s container", config.SidecarContainerName))
	case hasStatus:
		warnings = append(warnings, fmt.Sprintf("the pod has a %s annotation but no %s container; injecting it again", config.AnnotationStatus, config.SidecarContainerName))
	}
	if pod.Spec.HostNetwork && !cfg.AllowHostNetwork {
		return pod.DeepCopy(), []string{"the pod uses hostNetwork: gopherscope does not inject it, since the sidecar's port would be opened on the node (allowHostNetwork in the config allows it)"},
			skip(ReasonHostNetwork, "the pod uses hostNetwork and the config does not allow it")
	}
	if len(pod.Spec.Containers) == 0 {
		return pod.DeepCopy(), nil, skip(ReasonNoContainers, "the pod has no container to observe")
	}

	s, problems := readSettings(pod, cfg)
	if len(problems) > 0 && cfg.Strict {
		texts := make([]string, len(problems))
		for i, p := range problems {
			texts[i] = p.String()
		}
		return pod.DeepCopy(), nil, Decision{Action: ActionDeny, Reason: ReasonInvalidAnnotations,
			Message: "invalid gopherscope annotations (strict mode): " + strings.Join(texts, "; ")}
	}
	for _, p := range problems {
		warnings = append(warnings, p.warning())
	}
	port, portWarning := choosePort(cfg.Sidecar.Port, usedPorts(pod, s.targetPorts))
	if portWarning != "" {
		warnings = append(warnings, portWarning)
	}
	native := cfg.NativeSidecar != config.NativeSidecarNever
	warnings = append(warnings, placementWarnings(pod, port, native)...)

	out := pod.DeepCopy()
	sidecar := buildSidecar(&s, port, cfg, native)
	if native {
		out.Spec.InitContainers = append(out.Spec.InitContainers, sidecar)
	} else {
		out.Spec.Containers = append(out.Spec.Containers, sidecar)
	}
	st := Status{
		Version: cmp.Or(cfg.InjectorVersion, "unknown"),
		Sidecar: config.SidecarContainerName,
		Native:  native,
		Port:    port,
		Target: StatusTarget{
			Container:   s.appContainer,
			Ports:       s.targetPorts,
			ExpvarPath:  s.expvarPath,
			PprofPath:   s.pprofPath,
			MetricsPath: s.metricsPath,
		},
	}
	warnings = append(warnings, annotate(out, &st)...)
	kind := "a regular container"
	if native {
		kind = "a native sidecar"
	}
	ports := "port "
	if len(s.targetPorts) > 1 {
		ports = "ports "
	}
	return out, warnings, Decision{Action: ActionInject, Reason: ReasonInjected, Message: fmt.Sprintf(
		"added %s as %s on port %d, observing container %q on %s%s", config.SidecarContainerName, kind, port, s.appContainer, ports, joinPorts(s.targetPorts))}
}

func skip(reason Reason, message string) Decision {
	return Decision{Action: ActionSkip, Reason: reason, Message: message}
}

// injectionMarks reports whether the pod has the status annotation and
// whether it has a container or init container named like the sidecar.
func injectionMarks(pod *corev1.Pod) (hasStatus, hasSidecar bool) {
	_, hasStatus = pod.Annotations[config.AnnotationStatus]
	isSidecar := func(c corev1.Container) bool { return c.Name == config.SidecarContainerName }
	hasSidecar = slices.ContainsFunc(pod.Spec.Containers, isSidecar) || slices.ContainsFunc(pod.Spec.InitContainers, isSidecar)
	return hasStatus, hasSidecar
}

// placementWarnings says what the sidecar's placement means for this pod:
// on the host's network its port is the node's, and as a regular container
// in a pod that is meant to finish it keeps the pod running.
func placementWarnings(pod *corev1.Pod, port int32, native bool) []string {
	var warnings []string
	if pod.Spec.HostNetwork {
		warnings = append(warnings, fmt.Sprintf("the pod uses hostNetwork: the sidecar's port %d (%s) is opened on the node's network", port, config.SidecarPortName))
	}
	if rp := pod.Spec.RestartPolicy; !native && (rp == corev1.RestartPolicyNever || rp == corev1.RestartPolicyOnFailure) {
		warnings = append(warnings, fmt.Sprintf("the pod's restartPolicy is %s and the sidecar is a regular container (nativeSidecar: never): the pod does not complete while the sidecar runs", rp))
	}
	return warnings
}
