package auditor

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gopherscope/gopherscope/config"
)

// maybeRestart restarts the owner's rollout if Settings.RolloutRestart is
// on, the owner is a Deployment, StatefulSet or DaemonSet, it was not
// restarted within Settings.RestartCooldown (by this process, or by any
// replica: the time is read back from the pod template) and the webhook is
// ready. Failures are logged and tried again after Settings.Period.
func (a *Auditor) maybeRestart(ctx context.Context, owner Owner) {
	if !a.opts.Settings.RolloutRestart || !restartable(owner) {
		return
	}
	log := ctrl.LoggerFrom(ctx).WithValues("owner", owner.String())
	now := a.opts.Now()
	if a.restartedWithin(owner.UID, now) {
		return
	}
	if err := a.opts.WebhookReady(ctx); err != nil {
		log.Info("not restarting the owner: the webhook is not ready, the new pods would lack the sidecar too", "reason", err.Error())
		return
	}
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(schema.FromAPIVersionAndKind(owner.APIVersion, owner.Kind))
	if err := a.opts.Live.Get(ctx, client.ObjectKey{Namespace: owner.Namespace, Name: owner.Name}, obj); err != nil {
		if !apierrors.IsNotFound(err) {
			log.Error(err, "not restarting the owner: it cannot be read")
		}
		return
	}
	if obj.GetUID() != owner.UID {
		return // re-created since: its pods are judged on their own
	}
	if paused, _, _ := unstructured.NestedBool(obj.Object, "spec", "paused"); paused {
		log.Info("not restarting the owner: its rollout is paused")
		return
	}
	value, _, _ := unstructured.NestedString(obj.Object, "spec", "template", "metadata", "annotations", config.AnnotationRestartedAt)
	if last, err := time.Parse(time.RFC3339, value); err == nil && now.Sub(last) < a.opts.Settings.RestartCooldown {
		a.rememberRestart(owner.UID, last, now)
		return
	}
	stamp := now.UTC().Format(time.RFC3339)
	patch, err := restartPatch(owner.UID, stamp)
	if err != nil {
		log.Error(err, "restart the owner")
		return
	}
	if err := a.opts.Writer.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		log.Error(err, "restart the owner")
		return
	}
	a.rememberRestart(owner.UID, now, now)
	log.Info("restarted the owner's rollout to inject its pods", "restartedAt", stamp)
	a.opts.Recorder.Eventf(owner.object(), nil, corev1.EventTypeNormal, ReasonRolloutRestarted, eventAction,
		"Restarted the rollout (pod template annotation %s=%s) so that its pods are re-created with the %s container.",
		config.AnnotationRestartedAt, stamp, config.SidecarContainerName)
}

// restartPatch is the merge patch of a rollout restart, as `kubectl rollout
// restart` makes it with kubectl.kubernetes.io/restartedAt. The UID makes
// the patch fail on an object re-created under the same name (it is
// immutable), instead of restarting a workload nobody judged.
func restartPatch(uid types.UID, stamp string) ([]byte, error) {
	patch := map[string]any{
		"metadata": map[string]any{"uid": uid},
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
			"annotations": map[string]any{config.AnnotationRestartedAt: stamp},
		}}},
	}
	b, err := json.Marshal(patch)
	if err != nil {
		return nil, fmt.Errorf("encode the restart patch: %w", err)
	}
	return b, nil
}

// restartedWithin reports whether the owner was restarted within the cool-down.
func (a *Auditor) restartedWithin(uid types.UID, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	last, ok := a.lastRestart[uid]
	return ok && now.Sub(last) < a.opts.Settings.RestartCooldown
}

// rememberRestart records when the owner was restarted and forgets the
// restarts whose cool-down has passed.
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
