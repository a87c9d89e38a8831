package injector

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// res builds requests and limits from "cpu", "memory" pairs; "" leaves one out.
func res(requestCPU, requestMemory, limitCPU, limitMemory string) corev1.ResourceRequirements {
	list := func(cpu, memory string) corev1.ResourceList {
		l := corev1.ResourceList{}
		if cpu != "" {
			l[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if memory != "" {
			l[corev1.ResourceMemory] = resource.MustParse(memory)
		}
		if len(l) == 0 {
			return nil
		}
		return l
	}
	return corev1.ResourceRequirements{Requests: list(requestCPU, requestMemory), Limits: list(limitCPU, limitMemory)}
}

// TestPodQOSClassFollowsKubernetesRule checks podQOSClass against the rule
// of https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/ (and
// ComputePodQOS of k8s.io/kubernetes), one clause per case.
func TestPodQOSClassFollowsKubernetesRule(t *testing.T) {
	guaranteed := res("500m", "256Mi", "500m", "256Mi")
	tests := []struct {
		name       string
		init, main []corev1.ResourceRequirements
		podLevel   *corev1.ResourceRequirements
		want       corev1.PodQOSClass
	}{
		{name: "every container with cpu and memory requests equal to limits is Guaranteed",
			main: []corev1.ResourceRequirements{guaranteed, res("1", "1Gi", "1", "1Gi")}, want: corev1.PodQOSGuaranteed},
		{name: "limits alone are Guaranteed: requests default to limits",
			main: []corev1.ResourceRequirements{res("", "", "1", "1Gi")}, want: corev1.PodQOSGuaranteed},
		{name: "equal quantities written differently are equal",
			main: []corev1.ResourceRequirements{res("0.5", "268435456", "500m", "256Mi")}, want: corev1.PodQOSGuaranteed},
		{name: "a request below its limit is Burstable",
			main: []corev1.ResourceRequirements{res("100m", "256Mi", "500m", "256Mi")}, want: corev1.PodQOSBurstable},
		{name: "a cpu limit without a memory limit is Burstable",
			main: []corev1.ResourceRequirements{res("1", "", "1", "")}, want: corev1.PodQOSBurstable},
		{name: "init containers count: a Burstable one makes the pod Burstable",
			init: []corev1.ResourceRequirements{res("10m", "", "", "")}, main: []corev1.ResourceRequirements{guaranteed}, want: corev1.PodQOSBurstable},
		{name: "init containers count: one without resources next to Guaranteed ones is Burstable",
			init: []corev1.ResourceRequirements{{}}, main: []corev1.ResourceRequirements{guaranteed}, want: corev1.PodQOSBurstable},
		{name: "Guaranteed init and app containers are Guaranteed",
			init: []corev1.ResourceRequirements{res("100m", "64Mi", "100m", "64Mi")}, main: []corev1.ResourceRequirements{guaranteed}, want: corev1.PodQOSGuaranteed},
		{name: "no cpu or memory anywhere is BestEffort",
			main: []corev1.ResourceRequirements{{}, {Requests: corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("1Gi")}}}, want: corev1.PodQOSBestEffort},
		{name: "pod-level resources take precedence over Burstable containers",
			main: []corev1.ResourceRequirements{res("100m", "", "", "")}, podLevel: &guaranteed, want: corev1.PodQOSGuaranteed},
		{name: "pod-level resources take precedence over Guaranteed containers",
			main: []corev1.ResourceRequirements{guaranteed}, podLevel: func() *corev1.ResourceRequirements { r := res("1", "1Gi", "2", "1Gi"); return &r }(), want: corev1.PodQOSBurstable},
		{name: "pod-level limits over containers requesting less are Burstable: the pod's requests default to the containers'",
			podLevel: func() *corev1.ResourceRequirements { r := res("", "", "1", "1Gi"); return &r }(),
			main:     []corev1.ResourceRequirements{res("500m", "1Gi", "", "")}, want: corev1.PodQOSBurstable},
		{name: "pod-level limits alone are Guaranteed: requests default to limits",
			podLevel: func() *corev1.ResourceRequirements { r := res("", "", "1", "1Gi"); return &r }(), main: []corev1.ResourceRequirements{{}}, want: corev1.PodQOSGuaranteed},
		{name: "pod-level hugepages alone take precedence too, and without cpu or memory they are BestEffort",
			podLevel: &corev1.ResourceRequirements{Limits: corev1.ResourceList{"hugepages-2Mi": resource.MustParse("2Mi")}},
			main:     []corev1.ResourceRequirements{guaranteed}, want: corev1.PodQOSBestEffort},
		{name: "pod-level resources of another kind leave it to the containers",
			podLevel: &corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("1Gi")}},
			main:     []corev1.ResourceRequirements{guaranteed}, want: corev1.PodQOSGuaranteed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Resources: tt.podLevel}}
			for _, r := range tt.init {
				pod.Spec.InitContainers = append(pod.Spec.InitContainers, corev1.Container{Name: "init", Resources: r})
			}
			for _, r := range tt.main {
				pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "app", Resources: r})
			}
			if got := podQOSClass(pod); got != tt.want {
				t.Errorf("podQOSClass = %s, want %s", got, tt.want)
			}
		})
	}
}
