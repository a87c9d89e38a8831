package auditor

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/config"
)

// createdAt sets a pod's creation time.
func createdAt(at time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(at) }
}

// injected marks a pod as the webhook does.
func injected(p *corev1.Pod) {
	p.Annotations = map[string]string{config.AnnotationStatus: `{"version":"test"}`}
}

// restartSettings turn evictions on: a check per minute, one eviction per
// workload per hour.
var restartSettings = Settings{Period: time.Minute, RolloutRestart: true, RestartCooldown: time.Hour}

// reasons returns the regarded objects of the events with reason, in order.
func reasons(events []recorded, reason string) []string {
	var out []string
	for _, e := range events {
		if e.Reason == reason {
			out = append(out, e.Regarding)
		}
	}
	return out
}

func TestEvictionTakesOnePodPerWorkloadPerCooldownWhileTheWebhookIsReady(t *testing.T) {
	web, db, logs, nightly := deployment("shop", "web"), statefulSet("shop", "db"), &appsv1.DaemonSet{}, cronJob("shop", "nightly")
	logs.Namespace, logs.Name, logs.UID = "shop", "logs", "uid-logs"
	rs, report := replicaSet("shop", "web-7d9f", web), job("shop", "nightly-1", nightly)
	w := newWorld(t, restartSettings, namespace("shop", enabled), web, rs, db, logs, nightly, report,
		pod("shop", "web-7d9f-a", rs), pod("shop", "web-7d9f-b", rs), pod("shop", "db-0", db), pod("shop", "logs-x", logs),
		pod("shop", "nightly-1-x", report), pod("shop", "lonely", nil),
		// Injected once the webhook is ready: the API server reaches it.
		pod("shop", "proof", nil, createdAt(start.Add(time.Minute)), injected))
	all := []string{"shop/proof", "shop/web-7d9f-a", "shop/web-7d9f-b", "shop/db-0", "shop/logs-x", "shop/nightly-1-x", "shop/lonely"}

	w.notReady = errNotReady
	w.reconcile(t, all...)
	if got := w.takeEvicted(); len(got) != 0 {
		t.Errorf("evicted %v while the webhook was not ready", got)
	}
	if got := reasons(w.events.take(), config.EventReasonPodEvicted); len(got) != 0 {
		t.Errorf("eviction events %v while the webhook was not ready", got)
	}

	w.notReady = nil
	w.now = w.now.Add(time.Minute)
	w.reconcile(t, all...)
	if diff := cmp.Diff([]string{"shop/web-7d9f-a", "shop/db-0", "shop/logs-x"}, w.takeEvicted()); diff != "" {
		t.Errorf("evicted pods: one per Deployment, StatefulSet and DaemonSet, none of a Job or a bare pod (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Deployment shop/web", "StatefulSet shop/db", "DaemonSet shop/logs"}, reasons(w.events.take(), config.EventReasonPodEvicted)); diff != "" {
		t.Errorf("eviction events, on the workload a person acts on (-want +got):\n%s", diff)
	}

	w.now = w.now.Add(59 * time.Minute)
	w.reconcile(t, all...)
	if got := w.takeEvicted(); len(got) != 0 {
		t.Errorf("evicted %v within the cool-down", got)
	}

	w.now = w.now.Add(time.Minute)
	w.reconcile(t, all...)
	if diff := cmp.Diff([]string{"shop/web-7d9f-b"}, w.takeEvicted()); diff != "" {
		t.Errorf("after the cool-down, the workload's next pod (-want +got):\n%s", diff)
	}
}

func TestEvictionIsSkipped(t *testing.T) {
	tests := []struct {
		name     string
		settings Settings
		world    func(*world)
	}{
		{"when restarts are off (the default)", DefaultSettings(), nil},
		{"when no RoleBinding in the namespace allows evictions", restartSettings, func(w *world) { w.forbidden["shop"] = true }},
		{"when a PodDisruptionBudget forbids the eviction", restartSettings, func(w *world) { w.guarded["shop/web-1-a"] = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			web := deployment("shop", "web")
			rs := replicaSet("shop", "web-1", web)
			w := newWorld(t, tt.settings, namespace("shop", enabled), web, rs, pod("shop", "web-1-a", rs))
			if tt.world != nil {
				tt.world(w)
			}
			w.reconcile(t, "shop/web-1-a")
			if got := w.takeEvicted(); len(got) != 0 {
				t.Errorf("evicted %v", got)
			}
			if diff := cmp.Diff([]string{"Deployment shop/web"}, reasons(w.events.take(), config.EventReasonSidecarMissing)); diff != "" {
				t.Errorf("events: only the SidecarMissing warning (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvictionIsTriedAgainAfterAPeriod(t *testing.T) {
	web := deployment("shop", "web")
	rs := replicaSet("shop", "web-1", web)
	w := newWorld(t, restartSettings, namespace("shop", enabled), web, rs, pod("shop", "web-1-a", rs))
	w.forbidden["shop"], w.guarded["shop/web-1-a"] = true, true
	w.reconcile(t, "shop/web-1-a")

	w.forbidden["shop"] = false // a RoleBinding is created
	w.now = w.now.Add(30 * time.Second)
	w.reconcile(t, "shop/web-1-a")
	w.now = w.now.Add(30 * time.Second)
	w.reconcile(t, "shop/web-1-a") // the refusal is a period old: tried, but the budget forbids it
	if got := w.takeEvicted(); len(got) != 0 {
		t.Fatalf("evicted %v while refused", got)
	}

	w.guarded["shop/web-1-a"] = false // the budget allows it
	w.now = w.now.Add(time.Minute)
	w.reconcile(t, "shop/web-1-a")
	if diff := cmp.Diff([]string{"shop/web-1-a"}, w.takeEvicted()); diff != "" {
		t.Errorf("evicted (-want +got):\n%s", diff)
	}
}

func TestABrokenCABundleCostsOneEvictionThenAWebhookUnreachableEventAndNoMore(t *testing.T) {
	web, api := deployment("shop", "web"), deployment("shop", "api")
	webRS, apiRS := replicaSet("shop", "web-1", web), replicaSet("shop", "api-1", api)
	// The pods were created an hour before the webhook became ready (it was down).
	before := createdAt(start.Add(-time.Hour))
	w := newWorld(t, restartSettings, namespace("shop", enabled), web, api, webRS, apiRS,
		pod("shop", "web-1-a", webRS, before), pod("shop", "web-1-b", webRS, before), pod("shop", "api-1-a", apiRS, before))
	w.observe(t)
	w.now = start.Add(2 * time.Minute)
	all := []string{"shop/web-1-a", "shop/web-1-b", "shop/api-1-a"}

	w.reconcile(t, all...)
	if diff := cmp.Diff([]string{"shop/web-1-a"}, w.takeEvicted()); diff != "" {
		t.Fatalf("before anything shows the webhook reachable, one pod is evicted as a probe (-want +got):\n%s", diff)
	}
	// Its ReplicaSet re-creates it while the webhook is ready, and the API
	// server, which cannot reach the webhook, lets it through uninjected.
	if err := w.client.Create(t.Context(), pod("shop", "web-1-c", webRS, createdAt(w.now))); err != nil {
		t.Fatal(err)
	}
	w.events.take()
	w.reconcile(t, "shop/web-1-c")
	events := w.events.take()
	if diff := cmp.Diff([]string{"Deployment shop/web"}, reasons(events, config.EventReasonWebhookUnreachable)); diff != "" {
		t.Errorf("WebhookUnreachable events, on the owner of the pod created while the webhook was ready (-want +got):\n%s", diff)
	}
	for _, e := range events {
		if e.Reason == config.EventReasonWebhookUnreachable && (e.Type != corev1.EventTypeWarning || e.Related != "Pod shop/web-1-c") {
			t.Errorf("WebhookUnreachable event %+v: want a Warning related to Pod shop/web-1-c", e)
		}
	}
	w.assertUnreachable(t, 1)

	for range 3 {
		w.now = w.now.Add(restartSettings.RestartCooldown)
		w.reconcile(t, append(all, "shop/web-1-c")...)
	}
	if got := w.takeEvicted(); len(got) != 0 {
		t.Errorf("evicted %v after cool-downs although the webhook cannot be reached: their new pods would lack the sidecar too", got)
	}

	// The caBundle is fixed; the user re-creates the pod, which is injected.
	if err := w.client.Delete(t.Context(), pod("shop", "web-1-c", nil)); err != nil {
		t.Fatal(err)
	}
	if err := w.client.Create(t.Context(), pod("shop", "web-1-d", webRS, createdAt(w.now), injected)); err != nil {
		t.Fatal(err)
	}
	w.reconcile(t, "shop/web-1-c", "shop/web-1-d")
	w.assertUnreachable(t, 0)
	w.reconcile(t, all...)
	if diff := cmp.Diff([]string{"shop/web-1-b", "shop/api-1-a"}, w.takeEvicted()); diff != "" {
		t.Errorf("evicted once the webhook is reachable again (-want +got):\n%s", diff)
	}
}

func TestAnInjectedPodCreatedInTheSecondTheWebhookBecameReadyProvesItReachable(t *testing.T) {
	web, api := deployment("shop", "web"), deployment("shop", "api")
	webRS, apiRS := replicaSet("shop", "web-1", web), replicaSet("shop", "api-1", api)
	before := createdAt(start.Add(-time.Hour))
	w := newWorld(t, restartSettings, namespace("shop", enabled), web, api, webRS, apiRS,
		pod("shop", "web-1-a", webRS, before), pod("shop", "api-1-a", apiRS, before),
		// Stored creation times are whole seconds: this pod was created
		// after the webhook became ready, 300 ms into the second.
		pod("shop", "proof", nil, createdAt(start), injected))
	w.now = start.Add(300 * time.Millisecond)
	w.observe(t)
	w.reconcile(t, "shop/proof", "shop/web-1-a", "shop/api-1-a")
	if diff := cmp.Diff([]string{"shop/web-1-a", "shop/api-1-a"}, w.takeEvicted()); diff != "" {
		t.Errorf("evicted (-want +got):\n%s", diff)
	}
}

func TestCreatedWhileReady(t *testing.T) {
	tests := []struct {
		name string
		// ready are the readiness answers, one per second from start.
		ready     []bool
		nsLabel   time.Duration // after start, 0 for never
		newConfig time.Duration // after start, 0 for never
		created   time.Duration // after start
		want      bool
	}{
		{name: "a pod created while the webhook was down", ready: []bool{false, false}, created: time.Minute},
		{name: "a pod created within the grace after the webhook became ready", ready: []bool{true}, created: reachabilityGrace - time.Second},
		{name: "a pod created after the grace", ready: []bool{true}, created: reachabilityGrace, want: true},
		{name: "a pod created after a gap in readiness", ready: []bool{true, false, true}, created: reachabilityGrace + time.Second},
		{name: "a pod created soon after its namespace opted in", ready: []bool{true}, nsLabel: time.Minute, created: time.Minute + time.Second},
		{name: "a pod created soon after a new configuration", ready: []bool{true}, newConfig: time.Minute, created: time.Minute + time.Second},
		{name: "a pod created long after both", ready: []bool{true}, nsLabel: time.Minute, newConfig: time.Minute, created: 2 * time.Minute, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, DefaultSettings())
			for i, ready := range tt.ready {
				w.now = start.Add(time.Duration(i) * time.Second)
				w.notReady = nil
				if !ready {
					w.notReady = errNotReady
				}
				w.observe(t)
			}
			if tt.nsLabel != 0 {
				w.now = start.Add(tt.nsLabel)
				w.auditor.noteNamespaceChange("shop")
			}
			if tt.newConfig != 0 {
				w.now = start.Add(tt.newConfig)
				cfg := *w.cfg
				w.cfg = &cfg
				w.observe(t)
			}
			p := pod("shop", "p", nil, func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(start.Add(tt.created)) })
			if got := w.auditor.createdWhileReady(p); got != tt.want {
				t.Errorf("createdWhileReady = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvictableKinds(t *testing.T) {
	for _, o := range []struct {
		owner Owner
		want  bool
	}{
		{Owner{APIVersion: "apps/v1", Kind: "Deployment"}, true},
		{Owner{APIVersion: "apps/v1", Kind: "StatefulSet"}, true},
		{Owner{APIVersion: "apps/v1", Kind: "DaemonSet"}, true},
		{Owner{APIVersion: "apps/v1", Kind: "ReplicaSet"}, true},
		{Owner{APIVersion: "batch/v1", Kind: "CronJob"}, false},
		{Owner{APIVersion: "batch/v1", Kind: "Job"}, false},
		{Owner{APIVersion: "v1", Kind: "Pod"}, false},
		{Owner{APIVersion: "argoproj.io/v1alpha1", Kind: "Deployment"}, false},
	} {
		if got := evictable(o.owner); got != o.want {
			t.Errorf("evictable(%s %s) = %v, want %v", o.owner.APIVersion, o.owner.Kind, got, o.want)
		}
	}
}
