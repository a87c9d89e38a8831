package injector

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

// plan is what decide settled for an injection: the pod's settings, the
// sidecar's ports, whether it is a native sidecar, and the pod-level requests
// to write out (unsetPodRequests).
type plan struct {
	settings settings
	port     int32
	// diagnosticsPort is the sidecar's diagnostics port (0: none) and
	// diagnosticsCA the bundle its clients' certificates are checked with.
	diagnosticsPort int32
	diagnosticsCA   string
	native          bool
	podRequests     corev1.ResourceList
}

// decide returns whether pod is injected and, when it is, how. It applies,
// in order:
//   - the exclusions: gopherscope's own pods (config.LabelComponent) and
//     excluded namespaces (the Namespace's name, else the pod's own
//     metadata.namespace) are never injected;
//   - the opt-in table of DESIGN.md: pod opt-out (annotation "false" or
//     label "disabled") > namespace "disabled" > pod "enabled" > namespace
//     "enabled"; an Offline namespace counts as enabled. A pod selected, or
//     not opted in, is warned of its unknown gopherscope.io/ keys
//     (UnknownKeyWarnings);
//   - the injection marks: the status annotation together with a container
//     named like the sidecar means already injected. A sidecar-named
//     container without the annotation is also left alone (with a warning):
//     adding a second would make the pod invalid and replacing it would
//     remove what the user wrote. The annotation without the container is
//     injected again;
//   - Windows pods (see windowsShape), hostNetwork (skipped unless the
//     config allows it) and pods with no container;
//   - the per-pod annotations, each validated on its own: an invalid value
//     is replaced by its default with a warning, or, in strict mode, the
//     pod is denied with every problem listed;
//   - the sidecar's resources (sidecarResources): equal requests and limits
//     in a Guaranteed pod, fitted to the namespace's LimitRanges; a pod the
//     API server would then refuse for its size is skipped.
func decide(pod *corev1.Pod, ns Namespace, cfg *config.Config) (plan, []string, Decision) {
	sel := selectPod(pod, ns, cfg)
	if !sel.selected {
		var warnings []string
		if sel.decision.Reason == ReasonNotOptedIn {
			warnings = append(sel.warnings, UnknownKeyWarnings(pod.Labels, pod.Annotations)...)
		}
		return plan{}, warnings, sel.decision
	}
	warnings := append(sel.warnings, UnknownKeyWarnings(pod.Labels, pod.Annotations)...)
	hasStatus, hasSidecar := injectionMarks(pod)
	switch {
	case hasStatus && hasSidecar:
		return plan{}, nil, skip(ReasonAlreadyInjected, fmt.Sprintf("the pod already has the %s container and the %s annotation", config.SidecarContainerName, config.AnnotationStatus))
	case hasSidecar:
		return plan{}, []string{fmt.Sprintf("the pod has a container named %s but no %s annotation; it is treated as already injected and left unchanged",
			config.SidecarContainerName, config.AnnotationStatus)}, skip(ReasonAlreadyInjected, fmt.Sprintf("the pod already has a %s container", config.SidecarContainerName))
	case hasStatus:
		warnings = append(warnings, fmt.Sprintf("the pod has a %s annotation but no %s container; injecting it again", config.AnnotationStatus, config.SidecarContainerName))
	}
	if why := windowsShape(pod); why != "" {
		return plan{}, []string{"the pod runs on Windows (" + why + "): gopherscope does not inject it, since the sidecar is a Linux container"},
			skip(ReasonWindows, "the pod runs on Windows ("+why+")")
	}
	if pod.Spec.HostNetwork && !cfg.AllowHostNetwork {
		return plan{}, []string{"the pod uses hostNetwork: gopherscope does not inject it, since the sidecar's port would be opened on the node (allowHostNetwork in the config allows it)"},
			skip(ReasonHostNetwork, "the pod uses hostNetwork and the config does not allow it")
	}
	if len(pod.Spec.Containers) == 0 {
		return plan{}, nil, skip(ReasonNoContainers, "the pod has no container to observe")
	}

	s, problems := readSettings(pod, cfg)
	if len(problems) > 0 && cfg.Strict {
		texts := make([]string, len(problems))
		for i, p := range problems {
			texts[i] = p.String()
		}
		return plan{}, nil, Decision{Action: ActionDeny, Reason: ReasonInvalidAnnotations,
			Message: "invalid gopherscope annotations (strict mode): " + strings.Join(texts, "; ")}
	}
	for _, p := range problems {
		warnings = append(warnings, p.warning())
	}
	if cfg.Tune.GOMEMLIMIT.In(namespaceName(pod, ns)) {
		s.tuneGOMEMLIMIT = true
	}
	native := cfg.NativeSidecar != config.NativeSidecarNever
	resources, resourceWarnings, refusal := sidecarResources(pod, &s, cfg, ns.LimitRanges, native)
	if refusal != "" {
		return plan{}, append(warnings, refusal+": gopherscope does not inject the pod, which the API server would refuse "+
			"(lower the sidecar's resources in the injection config, or raise the limit)"), skip(ReasonResources, refusal)
	}
	s.resources = resources
	warnings = append(warnings, resourceWarnings...)
	port, diagnosticsPort, portWarnings := sidecarPorts(cfg, ns.Offline, usedPorts(pod, s.targetPorts))
	warnings = append(warnings, portWarnings...)
	p := plan{settings: s, port: port, diagnosticsPort: diagnosticsPort, native: native, podRequests: unsetPodRequests(pod)}
	if diagnosticsPort > 0 {
		p.diagnosticsCA = cfg.DiagnosticsCA
	}
	warnings = append(warnings, placementWarnings(pod, &p)...)
	return p, warnings, Decision{Action: ActionInject, Reason: ReasonInjected, Message: p.message()}
}

// message says what an injection adds, for Decision.Message.
func (p *plan) message() string {
	kind := "a regular container"
	if p.native {
		kind = "a native sidecar"
	}
	ports := "port "
	if len(p.settings.targetPorts) > 1 {
		ports = "ports "
	}
	diagnostics := ""
	if p.diagnosticsPort > 0 {
		diagnostics = fmt.Sprintf(" (diagnostics on port %d)", p.diagnosticsPort)
	}
	return fmt.Sprintf("added %s as %s on port %d%s, observing container %q on %s%s",
		config.SidecarContainerName, kind, p.port, diagnostics, p.settings.appContainer, ports, joinPorts(p.settings.targetPorts))
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

// placementWarnings says what the sidecar's placement p means for this pod:
// on the host's network its ports are the node's, and as a regular container
// in a pod that is meant to finish it keeps the pod running.
func placementWarnings(pod *corev1.Pod, p *plan) []string {
	var warnings []string
	switch {
	case pod.Spec.HostNetwork && p.diagnosticsPort > 0:
		warnings = append(warnings, fmt.Sprintf("the pod uses hostNetwork: the sidecar's ports %d (%s) and %d (%s, mutual TLS) are opened on the node's network",
			p.port, config.SidecarPortName, p.diagnosticsPort, config.SidecarDiagnosticsPortName))
	case pod.Spec.HostNetwork:
		warnings = append(warnings, fmt.Sprintf("the pod uses hostNetwork: the sidecar's port %d (%s) is opened on the node's network", p.port, config.SidecarPortName))
	}
	if rp := pod.Spec.RestartPolicy; !p.native && (rp == corev1.RestartPolicyNever || rp == corev1.RestartPolicyOnFailure) {
		warnings = append(warnings, fmt.Sprintf("the pod's restartPolicy is %s and the sidecar is a regular container (nativeSidecar: never): the pod does not complete while the sidecar runs", rp))
	}
	return warnings
}
