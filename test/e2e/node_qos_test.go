//go:build e2e

package e2e

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// TestNodeLimitRangesAreMetOrThePodIsSkipped runs Deployments in namespaces
// with LimitRanges the API server's LimitRanger enforces after the webhook
// answered: a minimum the sidecar's request is below is met by raising the
// request, and a maximum the sidecar's limit is over skips the pod rather
// than having the API server refuse every pod of the ReplicaSet.
func TestNodeLimitRangesAreMetOrThePodIsSkipped(t *testing.T) {
	e := realNode(t)
	app := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
	}
	for _, tt := range []struct {
		name        string
		limits      corev1.LimitRangeItem
		wantSidecar bool
	}{{
		name: "min",
		limits: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer,
			Min: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}},
		wantSidecar: true,
	}, {
		name: "max",
		limits: corev1.LimitRangeItem{Type: corev1.LimitTypeContainer,
			Max: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")}},
		wantSidecar: false,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			ns := e.namespace(t, "node-limits-"+tt.name, injectEnabled)
			lr := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "limits", Namespace: ns},
				Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{tt.limits}}}
			if _, err := e.client.CoreV1().LimitRanges(ns).Create(t.Context(), lr, metav1.CreateOptions{}); err != nil {
				t.Fatalf("create the LimitRange: %v", err)
			}
			d := e.demoDeployment(ns, "limited")
			d.Spec.Template.Spec.Containers[0].Resources = app
			pod := e.runDeployment(t, d)
			sc := sidecarOf(pod)
			if got := sc != nil; got != tt.wantSidecar {
				t.Fatalf("the running pod has a sidecar: %v, want %v: %s", got, tt.wantSidecar, describePod(pod))
			}
			if sc == nil {
				return
			}
			for name, min := range tt.limits.Min {
				if got := sc.Resources.Requests[name]; got.Cmp(min) < 0 {
					t.Errorf("the sidecar requests %s of %s, under the LimitRange's minimum %s", got.String(), name, min.String())
				}
			}
		})
	}
}
