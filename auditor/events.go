package auditor

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gopherscope/gopherscope/config"
)

// eventAction is the action of the auditor's Events (events.k8s.io/v1
// requires one): what the auditor did when it recorded them.
const eventAction = "Audit"

// recordMissing records a SidecarMissing Warning on the pod's owner (or,
// for a pod created while the webhook was ready, a WebhookUnreachable one),
// unless the owner got one within the last Settings.Period. The recorder
// aggregates repeats into a series on the API server.
func (a *Auditor) recordMissing(p trackedPod, pod *corev1.Pod) {
	owner := p.owner
	key := eventKey(owner.UID, p.whileReady)
	now := a.opts.Now()
	a.mu.Lock()
	last, seen := a.lastEvent[key]
	if seen && now.Sub(last) < a.opts.Settings.Period {
		a.mu.Unlock()
		return
	}
	a.lastEvent[key] = now
	a.mu.Unlock()

	if p.whileReady {
		a.opts.Recorder.Eventf(owner.object(), podReference(pod), corev1.EventTypeWarning, config.EventReasonWebhookUnreachable, eventAction, "%s", unreachableNote(pod))
		return
	}

	var related runtime.Object
	var note string
	if owner.isPod() {
		note = fmt.Sprintf("The pod should carry the %s container and does not: it was created while the gopherscope webhook "+
			"was unavailable, or before its namespace opted in. Re-creating the pod injects it.", config.SidecarContainerName)
	} else {
		related = podReference(pod)
		note = fmt.Sprintf("Pods of this %s should carry the %s container and do not (%s among them; the metric %s counts them): "+
			"they were created while the gopherscope webhook was unavailable, or before their namespace opted in. Re-creating them "+
			"injects them (kubectl rollout restart, for a Deployment, StatefulSet or DaemonSet).",
			owner.Kind, config.SidecarContainerName, pod.Name, MetricUninjectedPods)
	}
	a.opts.Recorder.Eventf(owner.object(), related, corev1.EventTypeWarning, config.EventReasonSidecarMissing, eventAction, "%s", note)
}

// podReference is the pod as the related object of an Event.
func podReference(pod *corev1.Pod) *metav1.PartialObjectMetadata {
	ref := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}}
	ref.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	return ref
}

// eventKey de-duplicates an owner's Events: its SidecarMissing and its
// WebhookUnreachable ones apart.
func eventKey(owner types.UID, whileReady bool) types.UID {
	if whileReady {
		return owner + "/unreachable"
	}
	return owner
}
