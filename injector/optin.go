package injector

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

// selection is the outcome of the opt-in rules: either the pod is selected
// for injection, or decision says why not.
type selection struct {
	selected bool
	decision Decision
	// warnings are about inject label and annotation values that mean
	// nothing (a typo like "true" for "enabled"); they are worth showing
	// only when they might explain the outcome (inject or not-opted-in).
	warnings []string
}

// selectPod applies DESIGN.md's opt-in table. The exclusions come first
// (gopherscope's own pods, excluded namespaces: never injected, whatever the
// labels say), then: pod opt-out (annotation "false" or label "disabled") >
// namespace "disabled" > pod "enabled" > namespace "enabled" > not opted in.
// An Offline namespace counts as "enabled" and its labels are not read.
func selectPod(pod *corev1.Pod, ns Namespace, cfg *config.Config) selection {
	nsName := namespaceName(pod, ns)
	if _, ok := pod.Labels[config.LabelComponent]; ok {
		return skipped(ReasonGopherscopePod, fmt.Sprintf("the pod carries the label %s: it is part of gopherscope", config.LabelComponent))
	}
	if nsName != "" && cfg.IsExcludedNamespace(nsName) {
		return skipped(ReasonExcludedNamespace, fmt.Sprintf("namespace %q is excluded from injection", nsName))
	}
	if v, ok := pod.Annotations[config.KeyInject]; ok && v == config.InjectAnnotationFalse {
		return skipped(ReasonPodAnnotationOptOut, fmt.Sprintf("the pod's annotation %s is %q", config.KeyInject, v))
	}
	podLabel, podLabelSet := pod.Labels[config.KeyInject]
	if podLabel == config.InjectDisabled {
		return skipped(ReasonPodOptedOut, fmt.Sprintf("the pod's label %s is %q", config.KeyInject, podLabel))
	}

	var warnings []string
	if v, ok := pod.Annotations[config.KeyInject]; ok {
		warnings = append(warnings, fmt.Sprintf("annotation %s: %s is ignored; only %q has a meaning (opt out), pods opt in with the label %s=%s",
			config.KeyInject, quote(v), config.InjectAnnotationFalse, config.KeyInject, config.InjectEnabled))
	}
	if podLabelSet && podLabel != config.InjectEnabled {
		warnings = append(warnings, unknownLabelWarning("label", podLabel))
	}
	nsLabel, nsLabelSet := "", false
	if !ns.Offline {
		nsLabel, nsLabelSet = ns.Labels[config.KeyInject]
		if nsLabel == config.InjectDisabled {
			return skipped(ReasonNamespaceDisabled, fmt.Sprintf("namespace %q has the label %s=%s", nsName, config.KeyInject, nsLabel))
		}
		if nsLabelSet && nsLabel != config.InjectEnabled {
			warnings = append(warnings, unknownLabelWarning(fmt.Sprintf("namespace %q label", nsName), nsLabel))
		}
	}
	if podLabel == config.InjectEnabled || nsLabel == config.InjectEnabled || ns.Offline {
		return selection{selected: true, warnings: warnings}
	}
	out := skipped(ReasonNotOptedIn, fmt.Sprintf("neither the pod nor namespace %q has the label %s=%s", nsName, config.KeyInject, config.InjectEnabled))
	out.warnings = warnings
	return out
}

// namespaceName is the namespace the pod is created in: the caller's (the
// admission request's, since a pod being created often has none of its
// own), else the pod's metadata.namespace (the offline CLI's manifests).
func namespaceName(pod *corev1.Pod, ns Namespace) string {
	if ns.Name != "" {
		return ns.Name
	}
	return pod.Namespace
}

func skipped(reason Reason, message string) selection {
	return selection{decision: Decision{Action: ActionSkip, Reason: reason, Message: message}}
}

func unknownLabelWarning(what, value string) string {
	return fmt.Sprintf("%s %s: %s is neither %q nor %q; ignored",
		what, config.KeyInject, quote(value), config.InjectEnabled, config.InjectDisabled)
}
