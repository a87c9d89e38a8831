package injector

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// qosResources are the resources Kubernetes' QoS classes look at.
var qosResources = [...]corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

// podQOSClass is the QoS class Kubernetes gives pod, by its documented rule
// (https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/, as
// ComputePodQOS in k8s.io/kubernetes/pkg/apis/core/v1/helper/qos computes
// it; that module is no dependency of ours):
//   - only cpu and memory count;
//   - pod-level resources (spec.resources with a cpu, memory or hugepages
//     request or limit) take precedence: they alone decide;
//   - otherwise every container and init container counts (ephemeral
//     containers have no resources): the pod is Guaranteed when each has cpu
//     and memory requests equal to its limits, not zero; BestEffort when none
//     has a cpu or memory request or limit; Burstable otherwise.
//
// A request that is not set counts as its limit: the API server sets it so
// (defaulting) before admission, and the offline CLI's manifests are not
// defaulted yet.
func podQOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	if r := pod.Spec.Resources; r != nil && setsPodLevelResources(r) {
		return requirementsQOS(r)
	}
	var class corev1.PodQOSClass
	for _, containers := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range containers {
			switch c := requirementsQOS(&containers[i].Resources); {
			case c == corev1.PodQOSBurstable:
				return c
			case class == "":
				class = c
			case class != c:
				return corev1.PodQOSBurstable
			}
		}
	}
	if class == "" {
		return corev1.PodQOSBestEffort
	}
	return class
}

// setsPodLevelResources reports whether pod-level resources r are set, as
// Kubernetes reads them: a request or limit of cpu, memory or hugepages.
func setsPodLevelResources(r *corev1.ResourceRequirements) bool {
	for _, list := range []corev1.ResourceList{r.Requests, r.Limits} {
		for name := range list {
			if name == corev1.ResourceCPU || name == corev1.ResourceMemory || strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
				return true
			}
		}
	}
	return false
}

// requirementsQOS is the class of one set of requests and limits: Guaranteed
// when cpu and memory each have a request equal to a non-zero limit,
// BestEffort when neither has either, Burstable otherwise.
func requirementsQOS(r *corev1.ResourceRequirements) corev1.PodQOSClass {
	var class corev1.PodQOSClass
	for _, name := range qosResources {
		limit := r.Limits[name]
		request, ok := r.Requests[name]
		if !ok {
			request = limit
		}
		shape := corev1.PodQOSGuaranteed
		switch {
		case !request.Equal(limit):
			return corev1.PodQOSBurstable
		case request.IsZero():
			shape = corev1.PodQOSBestEffort
		}
		if class != "" && class != shape {
			return corev1.PodQOSBurstable
		}
		class = shape
	}
	return class
}
