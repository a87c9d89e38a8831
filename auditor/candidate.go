package auditor

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/gopherscope/gopherscope/config"
)

// TrimPodMetadata is the cache transform for pod metadata: it keeps what
// tells a candidate apart and names it (name, namespace, UID, resource
// version, creation and deletion times, the controller reference, the
// gopherscope labels, and the annotations gopherscope.io/inject,
// gopherscope.io/status and kubernetes.io/config.mirror) and drops the rest,
// so the cache holds a few hundred bytes per pod. Other objects (typed pods,
// were anything to cache them) only lose their managedFields.
func TrimPodMetadata(in any) (any, error) {
	pod, ok := in.(*metav1.PartialObjectMetadata)
	if !ok {
		if obj, err := meta.Accessor(in); err == nil && obj.GetManagedFields() != nil {
			obj.SetManagedFields(nil)
		}
		return in, nil
	}
	out := &metav1.PartialObjectMetadata{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              pod.Name,
			Namespace:         pod.Namespace,
			UID:               pod.UID,
			ResourceVersion:   pod.ResourceVersion,
			CreationTimestamp: pod.CreationTimestamp,
			DeletionTimestamp: pod.DeletionTimestamp,
			Labels:            keep(pod.Labels, config.KeyInject, config.LabelComponent),
			Annotations:       keep(pod.Annotations, config.KeyInject, config.AnnotationStatus, corev1.MirrorPodAnnotationKey),
		},
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return out, nil
}

// keep returns the entries of m with the given keys, or nil if none.
func keep(m map[string]string, keys ...string) map[string]string {
	var out map[string]string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			if out == nil {
				out = make(map[string]string, len(keys))
			}
			out[k] = v
		}
	}
	return out
}

// mayBeUninjected reports, from a pod's metadata and its namespace's labels,
// whether the pod may be one that should carry the sidecar and does not: it
// is not terminating, not a mirror pod (the kubelet's copy of a static pod,
// which admission cannot change), not marked injected, and opted in by its
// own label or its namespace's. Reconcile reads candidates in full and asks
// the injector; everything else is settled here, from the cache.
//
// A pod that carries gopherscope.io/status counts as injected: the webhook
// writes it together with the sidecar container, and reading every injected
// pod in full to check the container as well would cost a request per pod.
// Someone who adds the annotation by hand to a pod without the sidecar hides
// that pod from the auditor.
func mayBeUninjected(pod metav1.Object, namespaceLabels map[string]string) bool {
	if pod.GetDeletionTimestamp() != nil {
		return false
	}
	annotations := pod.GetAnnotations()
	if _, mirror := annotations[corev1.MirrorPodAnnotationKey]; mirror {
		return false
	}
	if _, injected := annotations[config.AnnotationStatus]; injected {
		return false
	}
	return pod.GetLabels()[config.KeyInject] == config.InjectEnabled ||
		namespaceLabels[config.KeyInject] == config.InjectEnabled
}

// podEvents lets through the pod events that can change a verdict: every
// creation and deletion, an update that changes the kept metadata (a label,
// an annotation, the deletion time), and every update of a pod counted as
// uninjected (its phase may have become Succeeded or Failed). The rest —
// status updates of pods that are not counted — is most of the traffic.
func podEvents(isTracked func(client.Object) bool) predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			if e.ObjectOld == nil || e.ObjectNew == nil {
				return true
			}
			return isTracked(e.ObjectNew) || !sameSelection(e.ObjectOld, e.ObjectNew)
		},
	}
}

// sameSelection reports whether two versions of a pod agree on everything
// mayBeUninjected and the owner lookup read.
func sameSelection(a, b metav1.Object) bool {
	return equality.Semantic.DeepEqual(a.GetLabels(), b.GetLabels()) &&
		equality.Semantic.DeepEqual(a.GetAnnotations(), b.GetAnnotations()) &&
		equality.Semantic.DeepEqual(a.GetDeletionTimestamp(), b.GetDeletionTimestamp()) &&
		equality.Semantic.DeepEqual(a.GetOwnerReferences(), b.GetOwnerReferences())
}

// namespaceEvents lets through namespace creations, deletions and the
// updates that change the namespace's gopherscope.io/inject label: the ones
// after which its pods must be looked at again.
func namespaceEvents() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			if e.ObjectOld == nil || e.ObjectNew == nil {
				return true
			}
			oldValue, oldSet := e.ObjectOld.GetLabels()[config.KeyInject]
			newValue, newSet := e.ObjectNew.GetLabels()[config.KeyInject]
			return oldValue != newValue || oldSet != newSet
		},
	}
}
