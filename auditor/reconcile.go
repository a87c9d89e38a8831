package auditor

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gopherscope/gopherscope/injector"
)

// Reconcile judges one pod. An uninjected pod is counted, reported on its
// owner and, with RolloutRestart, its workload restarted; it is looked at
// again after Settings.Period (an Event is repeated at most that often). Any
// other pod, or one that no longer exists, is forgotten.
func (a *Auditor) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pod, err := a.uninjected(ctx, req.NamespacedName)
	if err != nil {
		return ctrl.Result{}, err
	}
	if pod == nil {
		a.forget(ctx, req.NamespacedName)
		return ctrl.Result{}, nil
	}
	owner, known := a.knownOwner(req.NamespacedName, pod.UID)
	if !known {
		if owner, err = ownerOf(ctx, a.opts.Live, pod); err != nil {
			return ctrl.Result{}, fmt.Errorf("find the owner of pod %s: %w", req.NamespacedName, err)
		}
		a.track(ctx, req.NamespacedName, trackedPod{uid: pod.UID, owner: owner})
	}
	a.recordMissing(owner, pod)
	a.maybeRestart(ctx, owner)
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
	_, _, decision := injector.Inject(pod, injector.Namespace{Name: pod.Namespace, Labels: ns.Labels}, a.opts.Config())
	if decision.Action != injector.ActionInject {
		ctrl.LoggerFrom(ctx).V(1).Info("candidate pod is not one to inject", "decision", decision.Action, "reason", decision.Reason)
		return nil, nil
	}
	return pod, nil
}

// knownOwner returns the owner found earlier for the pod, unless the pod
// was re-created under the same name since.
func (a *Auditor) knownOwner(key types.NamespacedName, uid types.UID) (Owner, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pods[key]
	if !ok || p.uid != uid {
		return Owner{}, false
	}
	return p.owner, true
}

// track counts the pod as uninjected (once) and updates the gauge.
func (a *Auditor) track(ctx context.Context, key types.NamespacedName, p trackedPod) {
	a.mu.Lock()
	_, had := a.pods[key]
	a.pods[key] = p
	if !had {
		a.perNamespace[key.Namespace]++
	}
	n := a.perNamespace[key.Namespace]
	a.mu.Unlock()
	a.opts.Metrics.setUninjected(key.Namespace, n)
	if !had {
		ctrl.LoggerFrom(ctx).Info("pod should carry the sidecar and does not", "owner", p.owner.String(), "uninjectedInNamespace", n)
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
	a.forgetOwnerLocked(p.owner.UID)
	a.mu.Unlock()
	a.opts.Metrics.setUninjected(key.Namespace, n)
	ctrl.LoggerFrom(ctx).Info("pod no longer counted as uninjected", "owner", p.owner.String(), "uninjectedInNamespace", n)
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
	delete(a.lastEvent, uid)
}
