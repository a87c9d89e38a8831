package injector

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// labelOS is the node label that names a node's operating system.
const labelOS = corev1.LabelOSStable

// windowsShape says why pod can only run on Windows nodes, or "" when it may
// run on Linux. The sidecar is a Linux container: on a pod with
// spec.os.name windows the API server refuses its Linux security fields, and
// on a pod bound to Windows nodes by its scheduling constraints it never
// starts, and the app waits for it. A pod is bound to Windows when its
// nodeSelector asks for kubernetes.io/os=windows, or when every term of its
// required node affinity does (an In expression listing windows only): terms
// are alternatives, so one term that admits Linux lets it run there.
func windowsShape(pod *corev1.Pod) string {
	if pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Windows {
		return "its spec.os.name is windows"
	}
	if pod.Spec.NodeSelector[labelOS] == string(corev1.Windows) {
		return "its nodeSelector " + labelOS + " is windows"
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		if len(terms) > 0 && !slices.ContainsFunc(terms, admitsNonWindows) {
			return "its required node affinity allows only " + labelOS + " windows"
		}
	}
	return ""
}

// admitsNonWindows reports whether a node selector term may match a node
// that is not a Windows one: it does unless one of its expressions (which
// must all hold) is kubernetes.io/os In [windows].
func admitsNonWindows(term corev1.NodeSelectorTerm) bool {
	return !slices.ContainsFunc(term.MatchExpressions, func(e corev1.NodeSelectorRequirement) bool {
		return e.Key == labelOS && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) > 0 &&
			!slices.ContainsFunc(e.Values, func(v string) bool { return v != string(corev1.Windows) })
	})
}
