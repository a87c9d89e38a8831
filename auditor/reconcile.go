package auditor

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

// Reconcile judges one pod. An uninjected pod is counted, reported on its
// owner and, with RolloutRestart, evicted (see maybeEvict); it is looked at
// again after Settings.Period (an Event is repeated at most that often). A
// pod created while the webhook was ready is reported as proof that the
// webhook is unreachable instead. Any other pod, or one that no longer
// exists, is forgotten.
func (a *Auditor) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pod, err := a.uninjected(ctx, req.NamespacedName)
	if err != nil {
		return ctrl.Result{}, err
	}
	if pod == nil {
		a.forget(ctx, req.NamespacedName)
		return ctrl.Result{}, nil
	}
	tracked, known := a.knownPod(req.NamespacedName, pod.UID)
	if !known {
		owner, err := ownerOf(ctx, a.opts.Live, pod)
		if err != nil {
			return ctrl.Result{}, fmt.Errorf("find the owner of pod %s: %w", req.NamespacedName, err)
		}
		tracked = trackedPod{uid: pod.UID, owner: owner, whileReady: a.createdWhileReady(pod)}
		a.track(ctx, req.NamespacedName, tracked)
	}
	a.recordMissing(tracked, pod)
	a.maybeEvict(ctx, tracked.owner, pod)
	return ctrl.Result{RequeueAfter: a.opts.Settings.Period}, nil
}

// uninjected returns the pod if it should carry the sidecar and does not,
// else nil. The cache settles most pods; a candidate is read in full from
// the API server and judged by the injector with the current configuration.
func (a *Auditor) uninjected(ctx context.Context, key types.NamespacedName) (*corev1.Pod, error) {
	meta := podMetadata()
	if err := a.opts.Cache.Get(ctx, key, meta); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get pod %s from the cache: %w", key, err)
	}
	ns := namespaceMetadata()
	if err := a.opts.Cache.Get(ctx, client.ObjectKey{Name: key.Namespace}, ns); err != nil {
		if apierrors.IsNotFound(err) {
			// A namespace event brings its pods back once it is cached.
			return nil, nil
		}
		return nil, fmt.Errorf("get namespace %q from the cache: %w", key.Namespace, err)
	}
	if _, injected := meta.Annotations[config.AnnotationStatus]; injected {
		a.noteInjected(meta.CreationTimestamp.Time)
	}
	if !mayBeUninjected(meta, ns.Labels) {
		return nil, nil
	}
	pod := &corev1.Pod{}
	if err := a.opts.Live.Get(ctx, key, pod); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get pod %s: %w", key, err)
	}
	if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil, nil
	}
	// The webhook skips a pod its namespace's LimitRanges would refuse with
	// the sidecar: judged without them, such a pod would look missed.
	var ranges corev1.LimitRangeList
	if err := a.opts.Cache.List(ctx, &ranges, client.InNamespace(pod.Namespace)); err != nil {
		return nil, fmt.Errorf("list the LimitRanges of namespace %q from the cache: %w", pod.Namespace, err)
	}
	_, _, decision := injector.Inject(pod, injector.Namespace{Name: pod.Namespace, Labels: ns.Labels, LimitRanges: ranges.Items}, a.opts.Config())
	if decision.Action != injector.ActionInject {
		ctrl.LoggerFrom(ctx).V(1).Info("candidate pod is not one to inject", "decision", decision.Action, "reason", decision.Reason)
		return nil, nil
	}
	return pod, nil
}

// knownPod returns what was found earlier about the pod, unless the pod
// was re-created under the same name since.
func (a *Auditor) knownPod(key types.NamespacedName, uid types.UID) (trackedPod, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pods[key]
	if !ok || p.uid != uid {
		return trackedPod{}, false
	}
	return p, true
}

// track counts the pod as uninjected (once) and updates the gauges.
func (a *Auditor) track(ctx context.Context, key types.NamespacedName, p trackedPod) {
	a.mu.Lock()
	old, had := a.pods[key]
	a.pods[key] = p
	if !had {
		a.perNamespace[key.Namespace]++
	}
	if had && old.whileReady {
		a.whileReady--
	}
	if p.whileReady {
		a.whileReady++
	}
	n, whileReady := a.perNamespace[key.Namespace], a.whileReady
	a.mu.Unlock()
	a.opts.Metrics.setUninjected(key.Namespace, n)
	a.opts.Metrics.setUnreachable(whileReady > 0)
	log := ctrl.LoggerFrom(ctx)
	if !had {
		log.Info("pod should carry the sidecar and does not", "owner", p.owner.String(), "uninjectedInNamespace", n, "createdWhileWebhookReady", p.whileReady)
	}
	if p.whileReady && whileReady == 1 {
		log.Info("the API server cannot reach the webhook: a pod created while it was ready lacks the sidecar; no pod is evicted until it is fixed",
			"owner", p.owner.String())
	}
}

// forget stops counting the pod, if it was counted, and updates the gauge.
func (a *Auditor) forget(ctx context.Context, key types.NamespacedName) {
	a.mu.Lock()
	p, had := a.pods[key]
	if !had {
		a.mu.Unlock()
		return
	}
	delete(a.pods, key)
	a.perNamespace[key.Namespace]--
	n := a.perNamespace[key.Namespace]
	if n == 0 {
		delete(a.perNamespace, key.Namespace)
	}
	if p.whileReady {
		a.whileReady--
	}
	whileReady := a.whileReady
	a.forgetOwnerLocked(p.owner.UID)
	a.mu.Unlock()
	a.opts.Metrics.setUninjected(key.Namespace, n)
	a.opts.Metrics.setUnreachable(whileReady > 0)
	log := ctrl.LoggerFrom(ctx)
	log.Info("pod no longer counted as uninjected", "owner", p.owner.String(), "uninjectedInNamespace", n)
	if p.whileReady && whileReady == 0 {
		log.Info("no pod created while the webhook was ready lacks the sidecar any more; evictions may resume")
	}
}

// forgetOwnerLocked drops the Event time of an owner none of whose pods is
// counted any more; its restart time stays, so the cool-down holds across a
// restart that replaced every pod. a.mu must be held.
func (a *Auditor) forgetOwnerLocked(uid types.UID) {
	for _, p := range a.pods {
		if p.owner.UID == uid {
			return
		}
	}
	delete(a.lastEvent, eventKey(uid, false))
	delete(a.lastEvent, eventKey(uid, true))
}
