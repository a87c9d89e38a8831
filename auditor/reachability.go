package auditor

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

// reachabilityGrace is how long after the webhook became ready (or a
// namespace or the configuration changed) a new pod still proves nothing
// about reachability: the kubelet's readiness probe, the Service's
// endpoints and the API server's caches need that long to catch up.
const reachabilityGrace = 30 * time.Second

// readinessPollInterval is how often the auditor asks whether its webhook
// is ready, to know since when it has been ready without a gap.
const readinessPollInterval = time.Second

// observeReadiness records whether the webhook is ready now: readySince is
// the start of the current unbroken ready stretch, zero while not ready.
// It also notes a new injection configuration (a pointer comparison), which
// may make pods admitted under the old one uninjected.
func (a *Auditor) observeReadiness(ctx context.Context) {
	ready := a.opts.WebhookReady(ctx) == nil
	cfg := a.opts.Config()
	now := a.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case !ready:
		a.readySince = time.Time{}
	case a.readySince.IsZero():
		a.readySince = now
	}
	if cfg != a.lastConfig {
		a.lastConfig, a.configChanged = cfg, now
	}
}

// noteNamespaceChange records that a namespace appeared or its inject label
// changed: its pods created before then may lack the sidecar legitimately.
func (a *Auditor) noteNamespaceChange(namespace string) {
	now := a.opts.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.namespaceChanged[namespace] = now
}

// createdWhileReady reports whether the pod was created while this
// process's webhook had been ready for reachabilityGrace without a gap, and
// under the namespace labels and configuration that make it uninjected now.
// Such a pod was sent to the webhook by the API server's own rules (the
// webhook configuration's selectors match what the injector decides), so
// its lacking the sidecar means the API server could not reach the webhook:
// a wrong caBundle, a NetworkPolicy, a broken Service. (A pod labelled
// gopherscope.io/inject=enabled after its creation looks the same; it only
// makes the auditor more cautious.)
func (a *Auditor) createdWhileReady(pod *corev1.Pod) bool {
	created := pod.CreationTimestamp.Time
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.readySince.IsZero() {
		return false
	}
	for _, since := range []time.Time{a.readySince, a.configChanged, a.namespaceChanged[pod.Namespace]} {
		if created.Before(since.Add(reachabilityGrace)) {
			return false
		}
	}
	return true
}

// noteInjected records the creation time of an injected pod.
func (a *Auditor) noteInjected(created time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if created.After(a.lastInjected) {
		a.lastInjected = created
	}
}

// reachabilityGate says why no pod may be evicted now, or "" if one may.
// The webhook must be ready, and no uninjected pod may have been created
// while it was ready. Until a pod created during the current ready stretch
// is seen injected, which proves that the API server reaches the webhook,
// a single pod is evicted as a probe: its replacement, injected or not,
// settles the question. So a broken caBundle costs at most one eviction.
func (a *Auditor) reachabilityGate() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case a.readySince.IsZero():
		return "the webhook is not ready, the new pod would lack the sidecar too"
	case a.whileReady > 0:
		return "pods created while the webhook was ready lack the sidecar: the API server cannot reach it"
	case !a.provenLocked() && !a.probeAt.Before(a.readySince):
		return "waiting for a pod created since the webhook became ready to show that the API server reaches it"
	}
	return ""
}

// provenLocked reports whether an injected pod was created during the
// current ready stretch. Creation times are whole seconds, so the stretch
// counts from the start of its first second. a.mu must be held.
func (a *Auditor) provenLocked() bool {
	return !a.lastInjected.Before(a.readySince.Truncate(time.Second))
}

// noteEviction records an eviction; made before any proof of
// reachability, it is the probe.
func (a *Auditor) noteEviction(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.provenLocked() {
		a.probeAt = now
	}
}

// readinessWatch polls the webhook's readiness on the elected replica, so
// that readySince never spans a stretch when the webhook was not ready.
type readinessWatch struct {
	auditor  *Auditor
	interval time.Duration
}

// Start polls until ctx ends.
func (r *readinessWatch) Start(ctx context.Context) error {
	r.auditor.observeReadiness(ctx)
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			r.auditor.observeReadiness(ctx)
		}
	}
}

// NeedLeaderElection runs the watch with the auditor: on the elected replica only.
func (*readinessWatch) NeedLeaderElection() bool { return true }

// unreachableNote is the note of the WebhookUnreachable Event.
func unreachableNote(pod *corev1.Pod) string {
	return "Pod " + pod.Name + " was created at " + pod.CreationTimestamp.UTC().Format(time.RFC3339) +
		", while the gopherscope webhook was ready, and lacks the " + config.SidecarContainerName +
		" container: the API server cannot reach the webhook (check the webhook configuration's caBundle, NetworkPolicies " +
		"between the API server and the webhook pods, and the webhook's Service). The auditor evicts no pod while any pod " +
		"created while the webhook was ready lacks the sidecar; the metric " + MetricWebhookUnreachable + " is 1 meanwhile."
}
