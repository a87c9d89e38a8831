package auditor

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// Owner is the object a person acts on to fix an uninjected pod: the
// workload that created it, or the pod itself. Events are recorded on it.
type Owner struct {
	// APIVersion and Kind are the owner's type, e.g. apps/v1 Deployment.
	APIVersion, Kind string
	// Namespace and Name locate it.
	Namespace, Name string
	// UID identifies it (and keys the de-duplication of its Events).
	UID types.UID
}

// String is "Kind namespace/name".
func (o Owner) String() string { return o.Kind + " " + o.Namespace + "/" + o.Name }

// GroupKind is the owner's API group and kind.
func (o Owner) GroupKind() schema.GroupKind {
	return schema.FromAPIVersionAndKind(o.APIVersion, o.Kind).GroupKind()
}

// object is a reference to the owner that an Event recorder accepts.
func (o Owner) object() *metav1.PartialObjectMetadata {
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Name, UID: o.UID}}
	obj.SetGroupVersionKind(schema.FromAPIVersionAndKind(o.APIVersion, o.Kind))
	return obj
}

// podOwner is the pod itself as an Owner (a pod without a controller).
func podOwner(pod metav1.Object) Owner {
	return Owner{APIVersion: "v1", Kind: "Pod", Namespace: pod.GetNamespace(), Name: pod.GetName(), UID: pod.GetUID()}
}

// parentKinds maps a controller kind to the kind that usually controls it in
// turn; the walk goes up while the next controller is of the expected kind.
func parentKinds() map[schema.GroupKind]schema.GroupKind {
	return map[schema.GroupKind]schema.GroupKind{
		appsv1.SchemeGroupVersion.WithKind("ReplicaSet").GroupKind(): appsv1.SchemeGroupVersion.WithKind("Deployment").GroupKind(),
		batchv1.SchemeGroupVersion.WithKind("Job").GroupKind():       batchv1.SchemeGroupVersion.WithKind("CronJob").GroupKind(),
	}
}

// ownerOf walks up the controller references of pod: Pod → ReplicaSet →
// Deployment, Pod → Job → CronJob; a StatefulSet, a DaemonSet or any other
// controller is the owner itself; a pod without a controller is its own
// owner. Intermediate objects are read as metadata from the API server. When
// one cannot be read (deleted, or not allowed), the walk stops at it; other
// errors are returned, so the caller retries.
func ownerOf(ctx context.Context, live client.Reader, pod metav1.Object) (Owner, error) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return podOwner(pod), nil
	}
	owner := Owner{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: pod.GetNamespace(), Name: ref.Name, UID: ref.UID}
	parents := parentKinds()
	for range len(parents) {
		parent, walks := parents[owner.GroupKind()]
		if !walks {
			break
		}
		obj := owner.object()
		err := live.Get(ctx, client.ObjectKey{Namespace: owner.Namespace, Name: owner.Name}, obj)
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			logf.FromContext(ctx).V(1).Info("owner not readable; events go to it", "owner", owner.String(), "reason", err.Error())
			break
		}
		if err != nil {
			return Owner{}, fmt.Errorf("get %s: %w", owner, err)
		}
		next := metav1.GetControllerOfNoCopy(obj)
		if next == nil {
			break
		}
		nextOwner := Owner{APIVersion: next.APIVersion, Kind: next.Kind, Namespace: owner.Namespace, Name: next.Name, UID: next.UID}
		if nextOwner.GroupKind() != parent {
			break
		}
		owner = nextOwner
	}
	return owner, nil
}

// isPod reports whether the owner is the pod itself.
func (o Owner) isPod() bool {
	return o.GroupKind() == corev1.SchemeGroupVersion.WithKind("Pod").GroupKind()
}
