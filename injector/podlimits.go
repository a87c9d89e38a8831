package injector

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// checkPodLimits returns why pod with the sidecar (requests and limits r,
// native or not) would be refused by the API server for its size, or "":
//   - its pod-level resources (spec.resources): the containers' aggregate
//     request of each resource at most the pod-level request (or, where only
//     a limit is set, the limit, which the request is defaulted under), and
//     the sidecar's limit at most the pod-level limit;
//   - the Pod limits of the namespace's LimitRanges: the pod's aggregate
//     request and limit of each resource at most the maximum, and its limit
//     at most maxLimitRequestRatio times its request. (Their minimums cannot
//     be broken by adding a container.)
//
// Aggregates are Kubernetes' effective pod requests and limits: the regular
// containers and native sidecars add up, and an init container counts with
// the native sidecars started before it, when it is larger.
func checkPodLimits(pod *corev1.Pod, r corev1.ResourceRequirements, ranges []corev1.LimitRange, native bool) string {
	spec := corev1.PodSpec{
		InitContainers: slices.Clone(pod.Spec.InitContainers),
		Containers:     slices.Clone(pod.Spec.Containers),
	}
	sidecar := corev1.Container{Resources: r}
	if native {
		always := corev1.ContainerRestartPolicyAlways
		sidecar.RestartPolicy = &always
		spec.InitContainers = append(spec.InitContainers, sidecar)
	} else {
		spec.Containers = append(spec.Containers, sidecar)
	}
	requests := aggregate(&spec, effectiveRequests)
	limits := aggregate(&spec, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Limits })

	if podLevel := pod.Spec.Resources; podLevel != nil {
		if why := checkPodLevel(podLevel, requests, r); why != "" {
			return why
		}
		for name, q := range podLevel.Requests {
			requests[name] = q
		}
		for name, q := range podLevel.Limits {
			limits[name] = q
		}
	}
	for i := range ranges {
		for _, item := range ranges[i].Spec.Limits {
			if item.Type != corev1.LimitTypePod {
				continue
			}
			for _, name := range sortedNames(item.Max) {
				most := item.Max[name]
				for _, side := range []struct {
					what string
					list corev1.ResourceList
				}{{"limit", limits}, {"request", requests}} {
					if q, ok := side.list[name]; ok && q.Cmp(most) > 0 {
						return fmt.Sprintf("with the sidecar, the pod's %s %s %s is above the maximum %s per pod of LimitRange %q",
							name, side.what, q.String(), most.String(), ranges[i].Name)
					}
				}
			}
			for _, name := range sortedNames(item.MaxLimitRequestRatio) {
				request, hasRequest := requests[name]
				limit, hasLimit := limits[name]
				ratio := item.MaxLimitRequestRatio[name]
				if hasRequest && hasLimit && exceedsRatio(request, limit, ratio) {
					return fmt.Sprintf("with the sidecar, the pod's %s limit %s is more than %s times its request %s, the maximum ratio per pod of LimitRange %q",
						name, limit.String(), ratioText(ratio), request.String(), ranges[i].Name)
				}
			}
		}
	}
	return ""
}

// checkPodLevel checks the containers' aggregate requests and the sidecar's
// limits r against pod-level resources.
func checkPodLevel(podLevel *corev1.ResourceRequirements, requests corev1.ResourceList, r corev1.ResourceRequirements) string {
	for _, name := range sortedNames(requests) {
		total := requests[name]
		if most, ok := podLevel.Requests[name]; ok {
			if total.Cmp(most) > 0 {
				return fmt.Sprintf("with the sidecar, the pod's containers request %s of %s, above its spec.resources.requests of %s", total.String(), name, most.String())
			}
		} else if most, ok := podLevel.Limits[name]; ok && total.Cmp(most) > 0 {
			return fmt.Sprintf("with the sidecar, the pod's containers request %s of %s, above its spec.resources.limits of %s", total.String(), name, most.String())
		}
	}
	for _, name := range sortedNames(r.Limits) {
		if most, ok := podLevel.Limits[name]; ok && r.Limits.Name(name, "").Cmp(most) > 0 {
			return fmt.Sprintf("the sidecar's %s limit %s is above the pod's spec.resources.limits of %s", name, r.Limits.Name(name, "").String(), most.String())
		}
	}
	return ""
}

// effectiveRequests are a container's requests, each missing one counting
// as its limit (the API server's defaulting).
func effectiveRequests(c *corev1.Container) corev1.ResourceList {
	out := c.Resources.Requests
	for name, limit := range c.Resources.Limits {
		if _, ok := out[name]; !ok {
			if len(out) == len(c.Resources.Requests) {
				out = out.DeepCopy()
				if out == nil {
					out = corev1.ResourceList{}
				}
			}
			out[name] = limit
		}
	}
	return out
}

// aggregate is the pod's effective total of what of gives for each
// container, as Kubernetes computes pod requests and limits: regular
// containers and native sidecars add up; each other init container runs
// with the native sidecars declared before it, and the largest of those
// moments counts if it is larger.
func aggregate(spec *corev1.PodSpec, of func(*corev1.Container) corev1.ResourceList) corev1.ResourceList {
	total := corev1.ResourceList{}
	for i := range spec.Containers {
		addList(total, of(&spec.Containers[i]))
	}
	sidecars, peak := corev1.ResourceList{}, corev1.ResourceList{}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addList(total, of(c))
			addList(sidecars, of(c))
			maxList(peak, sidecars)
			continue
		}
		moment := corev1.ResourceList{}
		addList(moment, of(c))
		addList(moment, sidecars)
		maxList(peak, moment)
	}
	maxList(total, peak)
	return total
}

func addList(dst, src corev1.ResourceList) {
	for name, q := range src {
		cur := dst[name]
		sum := cur.DeepCopy() // Add changes the quantity's shared parts
		sum.Add(q)
		dst[name] = sum
	}
}

func maxList(dst, src corev1.ResourceList) {
	for name, q := range src {
		if cur, ok := dst[name]; !ok || q.Cmp(cur) > 0 {
			dst[name] = q.DeepCopy()
		}
	}
}

func sortedNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for name := range list {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
