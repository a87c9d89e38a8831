package injector

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gopherscope/gopherscope/config"
)

// sidecarResources returns the sidecar's requests and limits for pod, and
// the warnings they give, or why the pod cannot be injected at all (the
// API server would refuse it). In order:
//   - the config's resources with the pod's request annotations applied; a
//     limit below an overridden request is raised to it, since Kubernetes
//     refuses a request above its limit;
//   - when the pod is Guaranteed without the sidecar (podQOSClass), the
//     sidecar's cpu and memory requests equal its limits, so that it stays
//     Guaranteed;
//   - fitted to the Container limits of the namespace's LimitRanges
//     (fitLimitRanges: raised, never lowered);
//   - checked against the Pod limits of the LimitRanges and the pod-level
//     resources, which the injected pod must satisfy (checkPodLimits).
func sidecarResources(pod *corev1.Pod, s *settings, cfg *config.Config, ranges []corev1.LimitRange, native bool) (corev1.ResourceRequirements, []string, string) {
	r := *cfg.Sidecar.Resources.DeepCopy()
	override := func(name corev1.ResourceName, q *resource.Quantity) {
		if q == nil {
			return
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		r.Requests[name] = q.DeepCopy()
		if limit, ok := r.Limits[name]; ok && q.Cmp(limit) > 0 {
			r.Limits[name] = q.DeepCopy()
		}
	}
	override(corev1.ResourceCPU, s.cpuRequest)
	override(corev1.ResourceMemory, s.memoryRequest)

	var warnings []string
	if podQOSClass(pod) == corev1.PodQOSGuaranteed {
		warnings = append(warnings, keepGuaranteed(&r, s)...)
	}
	adjusted, refusal := fitLimitRanges(&r, ranges)
	if refusal == "" {
		refusal = checkPodLimits(pod, r, ranges, native)
	}
	if refusal != "" {
		return corev1.ResourceRequirements{}, nil, refusal
	}
	return r, append(warnings, adjusted...), ""
}

// keepGuaranteed makes the sidecar's cpu and memory requests equal its
// limits (a limit the config leaves out is its request), and says where an
// annotation's request was replaced, or where the pod cannot stay
// Guaranteed.
func keepGuaranteed(r *corev1.ResourceRequirements, s *settings) []string {
	var warnings []string
	annotated := map[corev1.ResourceName]*resource.Quantity{corev1.ResourceCPU: s.cpuRequest, corev1.ResourceMemory: s.memoryRequest}
	keys := map[corev1.ResourceName]string{corev1.ResourceCPU: config.AnnotationSidecarCPU, corev1.ResourceMemory: config.AnnotationSidecarMemory}
	for _, name := range qosResources {
		limit, hasLimit := r.Limits[name]
		request, hasRequest := r.Requests[name]
		switch {
		case hasLimit:
			if q := annotated[name]; q != nil && q.Cmp(limit) != 0 {
				warnings = append(warnings, fmt.Sprintf("%s: the pod is Guaranteed, so the sidecar requests its %s limit %s instead of %s, to keep the pod Guaranteed",
					keys[name], name, limit.String(), q.String()))
			}
			setQuantity(&r.Requests, name, limit)
		case hasRequest:
			setQuantity(&r.Limits, name, request)
		default:
			warnings = append(warnings, fmt.Sprintf("the pod is Guaranteed, but the injection config gives the sidecar no %s request or limit: with the sidecar, the pod is Burstable", name))
		}
	}
	return warnings
}

// setQuantity sets (*list)[name] to a copy of q, creating the list if needed.
func setQuantity(list *corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) {
	if *list == nil {
		*list = corev1.ResourceList{}
	}
	(*list)[name] = q.DeepCopy()
}
