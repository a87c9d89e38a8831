package auditor

import (
	"context"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/gopherscope/gopherscope/config"
)

// maybeEvict evicts the uninjected pod through the Eviction API, so that
// its controller re-creates it and admission injects the new one, if
// Settings.RolloutRestart is on and:
//   - the pod's owner is a Deployment, ReplicaSet, StatefulSet or DaemonSet
//     (a controller that re-creates an evicted pod; never a bare pod or a Job);
//   - no pod of that owner was evicted within Settings.RestartCooldown (one
//     pod at a time, so a workload without a PodDisruptionBudget is not
//     emptied at once);
//   - the webhook is ready and reachable (see reachabilityGate): else the
//     new pod would lack the sidecar too, and a broken caBundle would
//     restart every workload on each cool-down;
//   - eviction is allowed in the namespace: a RoleBinding there grants it
//     (a refusal is remembered for Settings.Period).
//
// The API server refuses an eviction that a PodDisruptionBudget forbids; it
// is tried again after Settings.Period. The pod's UID is a precondition, so
// a pod re-created under the same name (a StatefulSet's) is never evicted
// unjudged.
func (a *Auditor) maybeEvict(ctx context.Context, owner Owner, pod *corev1.Pod) {
	if !a.opts.Settings.RolloutRestart || !evictable(owner) {
		return
	}
	log := ctrl.LoggerFrom(ctx).WithValues("owner", owner.String())
	now := a.opts.Now()
	if a.restartedWithin(owner.UID, now) || a.evictionDenied(pod.Namespace, now) {
		return
	}
	a.observeReadiness(ctx)
	if why := a.reachabilityGate(); why != "" {
		log.V(1).Info("not evicting: "+why, "pod", pod.Name)
		return
	}
	eviction := &policyv1.Eviction{DeleteOptions: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &pod.UID}}}
	err := a.opts.Evictions.SubResource("eviction").Create(ctx, pod, eviction)
	switch {
	case err == nil:
	case apierrors.IsForbidden(err):
		a.denyEviction(pod.Namespace, now)
		log.Info("not evicting: no RoleBinding in the namespace grants the auditor pods/eviction (restarts are opt-in per namespace)")
		return
	case apierrors.IsTooManyRequests(err):
		log.Info("not evicting now: a PodDisruptionBudget forbids it; trying again later", "pod", pod.Name)
		return
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return // gone, or re-created under the same name: judged on its own
	default:
		log.Error(err, "evict the uninjected pod", "pod", pod.Name)
		return
	}
	a.rememberRestart(owner.UID, now, now)
	a.noteEviction(now)
	log.Info("evicted an uninjected pod; its controller re-creates it with the sidecar", "pod", pod.Name)
	a.opts.Recorder.Eventf(owner.object(), podReference(pod), corev1.EventTypeNormal, config.EventReasonPodEvicted, eventAction,
		"Evicted pod %s, which lacks the %s container, through the Eviction API (PodDisruptionBudgets apply); its controller re-creates it with the sidecar. At most one pod of this %s is evicted per %s.",
		pod.Name, config.SidecarContainerName, owner.Kind, a.opts.Settings.RestartCooldown)
}

// evictable reports whether the owner re-creates an evicted pod: a
// Deployment, ReplicaSet, StatefulSet or DaemonSet.
func evictable(o Owner) bool {
	gk := o.GroupKind()
	if gk.Group != appsv1.GroupName {
		return false
	}
	switch gk.Kind {
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet":
		return true
	}
	return false
}

// restartedWithin reports whether a pod of the owner was evicted within the cool-down.
func (a *Auditor) restartedWithin(uid types.UID, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	last, ok := a.lastRestart[uid]
	return ok && now.Sub(last) < a.opts.Settings.RestartCooldown
}

// rememberRestart records when a pod of the owner was evicted and forgets
// the evictions whose cool-down has passed.
func (a *Auditor) rememberRestart(uid types.UID, at, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for other, t := range a.lastRestart {
		if now.Sub(t) >= a.opts.Settings.RestartCooldown {
			delete(a.lastRestart, other)
		}
	}
	a.lastRestart[uid] = at
}

// evictionDenied reports whether an eviction in the namespace was refused
// within the last Settings.Period.
func (a *Auditor) evictionDenied(namespace string, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	at, ok := a.denied[namespace]
	return ok && now.Sub(at) < a.opts.Settings.Period
}

// denyEviction remembers that the namespace refused an eviction.
func (a *Auditor) denyEviction(namespace string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.denied[namespace] = now
}
