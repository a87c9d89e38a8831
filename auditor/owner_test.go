package auditor

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

func TestOwnerOfWalksUpTheControllers(t *testing.T) {
	web, nightly, db := deployment("ns", "web"), cronJob("ns", "nightly"), statefulSet("ns", "db")
	logs := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "logs", UID: "uid-logs"}}
	rs, orphanRS := replicaSet("ns", "web-1", web), replicaSet("ns", "orphan-1", nil)
	report, adhoc := job("ns", "nightly-1", nightly), job("ns", "adhoc", nil)
	goneRS := replicaSet("ns", "gone-1", web) // referenced by a pod, absent from the API server
	// A ReplicaSet controlled by something else than a Deployment (an Argo Rollout, say).
	rolloutRS := replicaSet("ns", "rollout-1", nil)
	rolloutRS.OwnerReferences = []metav1.OwnerReference{{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout", Name: "canary", UID: "uid-canary", Controller: ptr(true)}}
	live := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).
		WithObjects(web, nightly, db, logs, rs, orphanRS, report, adhoc, rolloutRS).Build()

	owner := func(apiVersion, kind, name string) Owner {
		return Owner{APIVersion: apiVersion, Kind: kind, Namespace: "ns", Name: name, UID: types.UID("uid-" + name)}
	}
	nonController := pod("ns", "shared", nil)
	nonController.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "cm", UID: "uid-cm"}}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want Owner
	}{
		{"a Deployment's pod belongs to the Deployment", pod("ns", "web-1-a", rs), owner("apps/v1", "Deployment", "web")},
		{"a CronJob's pod belongs to the CronJob", pod("ns", "nightly-1-a", report), owner("batch/v1", "CronJob", "nightly")},
		{"a StatefulSet's pod belongs to the StatefulSet", pod("ns", "db-0", db), owner("apps/v1", "StatefulSet", "db")},
		{"a DaemonSet's pod belongs to the DaemonSet", pod("ns", "logs-a", logs), owner("apps/v1", "DaemonSet", "logs")},
		{"a bare ReplicaSet's pod belongs to the ReplicaSet", pod("ns", "orphan-1-a", orphanRS), owner("apps/v1", "ReplicaSet", "orphan-1")},
		{"a bare Job's pod belongs to the Job", pod("ns", "adhoc-a", adhoc), owner("batch/v1", "Job", "adhoc")},
		{"a pod whose ReplicaSet is gone belongs to the ReplicaSet", pod("ns", "gone-1-a", goneRS), owner("apps/v1", "ReplicaSet", "gone-1")},
		{"a ReplicaSet controlled by another kind is where the walk stops", pod("ns", "rollout-1-a", rolloutRS), owner("apps/v1", "ReplicaSet", "rollout-1")},
		{"a pod without a controller is its own owner", pod("ns", "lonely", nil), owner("v1", "Pod", "lonely")},
		{"a pod with only non-controller owners is its own owner", nonController, owner("v1", "Pod", "shared")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ownerOf(t.Context(), live, tt.pod)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("owner (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOwnerOfReturnsOtherErrorsForARetry(t *testing.T) {
	web := deployment("ns", "web")
	rs := replicaSet("ns", "web-1", web)
	// An API server that does not answer: neither NotFound nor Forbidden.
	live := fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(web, rs).
		WithInterceptorFuncs(interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return errors.New("connection refused")
		}}).Build()
	_, err := ownerOf(t.Context(), live, pod("ns", "web-1-a", rs))
	if err == nil || err.Error() != "get ReplicaSet ns/web-1: connection refused" {
		t.Errorf("error = %v, want the failed read of the ReplicaSet", err)
	}
}

func TestOwnerObjectIsAReferenceTheRecorderAccepts(t *testing.T) {
	o := Owner{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "ns", Name: "web", UID: "uid-web"}
	obj := o.object()
	if got := obj.GroupVersionKind(); got.Group != "apps" || got.Version != "v1" || got.Kind != "Deployment" {
		t.Errorf("GVK = %v", got)
	}
	if key := client.ObjectKeyFromObject(obj); key.Namespace != "ns" || key.Name != "web" || obj.UID != "uid-web" {
		t.Errorf("object = %+v", obj.ObjectMeta)
	}
	if got := o.String(); got != "Deployment ns/web" {
		t.Errorf("String() = %q", got)
	}
}

func ptr[T any](v T) *T { return &v }
