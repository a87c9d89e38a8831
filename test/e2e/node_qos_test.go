//go:build e2e

package e2e

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gopherscope/gopherscope/config"
)

// TestNodeGuaranteedDeploymentStaysGuaranteedWithItsSidecar runs a
// Deployment whose only container requests what it limits: the kubelet
// runs it with its sidecar, and the pod's QoS class, as the API server
// records it on the running pod, is still Guaranteed.
func TestNodeGuaranteedDeploymentStaysGuaranteedWithItsSidecar(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-qos", injectEnabled)
	d := e.demoDeployment(ns, "guaranteed")
	exact := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m"), corev1.ResourceMemory: resource.MustParse("128Mi")}
	d.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{Requests: exact, Limits: exact}
	pod := e.runDeployment(t, d)

	sc := sidecarOf(pod)
	if sc == nil {
		t.Fatalf("the pod has no sidecar: %s", describePod(pod))
	}
	if s := statusOf(pod, config.SidecarContainerName); s.State.Running == nil || !s.Ready {
		t.Errorf("the sidecar is not running and ready: %s", describePod(pod))
	}
	if !equality.Semantic.DeepEqual(sc.Resources.Requests, sc.Resources.Limits) {
		t.Errorf("the sidecar requests %v and limits %v, want them equal", sc.Resources.Requests, sc.Resources.Limits)
	}
	if pod.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("the running pod's status.qosClass is %q, want Guaranteed: %s", pod.Status.QOSClass, describePod(pod))
	}
}
