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
//     request or limit) take precedence: they alone decide, completed as the
//     API server completes them (podLevelRequests);
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
		return requirementsQOS(&corev1.ResourceRequirements{Requests: podLevelRequests(pod), Limits: r.Limits})
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

// podLevelRequests are the pod-level requests of pod as the API server
// completes them (KEP-2837's defaulting): a request not set is the
// containers' aggregate request of that resource where a container requests
// it, else the pod-level limit. (Kubernetes 1.37 completes them after
// admission, so the sidecar's requests would count: see unsetPodRequests.)
func podLevelRequests(pod *corev1.Pod) corev1.ResourceList {
	out := pod.Spec.Resources.Requests.DeepCopy()
	containers := aggregate(&pod.Spec, effectiveRequests)
	for name, limit := range pod.Spec.Resources.Limits {
		if _, ok := out[name]; ok {
			continue
		}
		if out == nil {
			out = corev1.ResourceList{}
		}
		if total, ok := containers[name]; ok {
			out[name] = total
		} else {
			out[name] = limit
		}
	}
	return out
}

// unsetPodRequests are the pod-level requests that the API server sets from
// the pod-level limits because no container requests that resource. The
// injector sets them itself: since Kubernetes 1.37 the API server completes
// pod-level requests after admission, from the containers' requests if any
// container has one, so the sidecar's small requests would become the
// whole pod's and the pod would lose the requests (and the QoS class) its
// limits gave it.
func unsetPodRequests(pod *corev1.Pod) corev1.ResourceList {
	r := pod.Spec.Resources
	if r == nil {
		return nil
	}
	containers := aggregate(&pod.Spec, effectiveRequests)
	var out corev1.ResourceList
	for name, limit := range r.Limits {
		_, set := r.Requests[name]
		_, requested := containers[name]
		if set || requested || !setsPodLevelResources(&corev1.ResourceRequirements{Limits: corev1.ResourceList{name: limit}}) {
			continue
		}
		if out == nil {
			out = corev1.ResourceList{}
		}
		out[name] = limit.DeepCopy()
	}
	return out
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
