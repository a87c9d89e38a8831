package auditor

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gopherscope/gopherscope/config"
)

// restartedAt returns the restart annotation of a workload's pod template.
func restartedAt(t *testing.T, w *world, obj client.Object) string {
	t.Helper()
	if err := w.client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return o.Spec.Template.Annotations[config.AnnotationRestartedAt]
	case *appsv1.StatefulSet:
		return o.Spec.Template.Annotations[config.AnnotationRestartedAt]
	case *appsv1.DaemonSet:
		return o.Spec.Template.Annotations[config.AnnotationRestartedAt]
	}
	t.Fatalf("no pod template in %T", obj)
	return ""
}

func TestRolloutRestartPatchesTheWorkloadOncePerCooldownWhileTheWebhookIsReady(t *testing.T) {
	web, db, logs, nightly := deployment("shop", "web"), statefulSet("shop", "db"), &appsv1.DaemonSet{}, cronJob("shop", "nightly")
	logs.Namespace, logs.Name, logs.UID = "shop", "logs", "uid-logs"
	rs, report := replicaSet("shop", "web-7d9f", web), job("shop", "nightly-1", nightly)
	settings := Settings{Period: time.Minute, RolloutRestart: true, RestartCooldown: time.Hour}
	w := newWorld(t, settings, namespace("shop", enabled), web, rs, db, logs, nightly, report,
		pod("shop", "web-7d9f-a", rs), pod("shop", "web-7d9f-b", rs), pod("shop", "db-0", db), pod("shop", "logs-x", logs),
		pod("shop", "nightly-1-x", report), pod("shop", "lonely", nil))
	all := []string{"shop/web-7d9f-a", "shop/web-7d9f-b", "shop/db-0", "shop/logs-x", "shop/nightly-1-x", "shop/lonely"}
	workloads := []client.Object{web, db, logs}
	restarts := func() []string {
		var out []string
		for _, e := range w.events.take() {
			if e.Reason == ReasonRolloutRestarted {
				out = append(out, e.Regarding)
			}
		}
		return out
	}

	w.notReady = errNotReady
	w.reconcile(t, all...)
	for _, obj := range workloads {
		if got := restartedAt(t, w, obj); got != "" {
			t.Errorf("%s restarted at %q while the webhook was not ready", obj.GetName(), got)
		}
	}
	if got := restarts(); len(got) != 0 {
		t.Errorf("restart events %v while the webhook was not ready", got)
	}

	w.notReady = nil
	w.now = w.now.Add(time.Minute)
	first := w.now.Format(time.RFC3339)
	w.reconcile(t, all...)
	for _, obj := range workloads {
		if got := restartedAt(t, w, obj); got != first {
			t.Errorf("%s restarted at %q, want %q", obj.GetName(), got, first)
		}
	}
	if diff := cmp.Diff([]string{"Deployment shop/web", "StatefulSet shop/db", "DaemonSet shop/logs"}, restarts()); diff != "" {
		t.Errorf("restart events, one per workload and none for a CronJob or a bare pod (-want +got):\n%s", diff)
	}

	w.now = w.now.Add(59 * time.Minute)
	w.reconcile(t, all...)
	if got := restartedAt(t, w, web); got != first {
		t.Errorf("restarted again within the cool-down: %q", got)
	}

	w.now = w.now.Add(time.Minute)
	w.reconcile(t, all...)
	if got, want := restartedAt(t, w, web), w.now.Format(time.RFC3339); got != want {
		t.Errorf("after the cool-down the restart annotation is %q, want %q", got, want)
	}
}

func TestRolloutRestartIsSkipped(t *testing.T) {
	tests := []struct {
		name     string
		settings Settings
		web      func(*appsv1.Deployment)
	}{
		{"when restarts are off (the default)", DefaultSettings(), nil},
		{"when another replica restarted the workload within the cool-down", Settings{Period: time.Minute, RolloutRestart: true, RestartCooldown: time.Hour},
			func(d *appsv1.Deployment) {
				d.Spec.Template.Annotations = map[string]string{config.AnnotationRestartedAt: start.Add(-30 * time.Minute).Format(time.RFC3339)}
			}},
		{"when the rollout is paused", Settings{Period: time.Minute, RolloutRestart: true, RestartCooldown: time.Hour},
			func(d *appsv1.Deployment) { d.Spec.Paused = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			web := deployment("shop", "web")
			if tt.web != nil {
				tt.web(web)
			}
			before := web.Spec.Template.Annotations[config.AnnotationRestartedAt]
			rs := replicaSet("shop", "web-1", web)
			w := newWorld(t, tt.settings, namespace("shop", enabled), web, rs, pod("shop", "web-1-a", rs))
			w.reconcile(t, "shop/web-1-a")
			if got := restartedAt(t, w, web); got != before {
				t.Errorf("restart annotation %q, want it unchanged (%q)", got, before)
			}
			for _, e := range w.events.take() {
				if e.Reason != ReasonSidecarMissing {
					t.Errorf("unexpected event %+v", e)
				}
			}
		})
	}
}

func TestRestartPatchIsAMergePatchOfTheTemplateGuardedByTheUID(t *testing.T) {
	got, err := restartPatch("uid-1", "2026-11-27T10:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metadata":{"uid":"uid-1"},"spec":{"template":{"metadata":{"annotations":{"gopherscope.io/restartedAt":"2026-11-27T10:00:00Z"}}}}}`
	if string(got) != want {
		t.Errorf("patch = %s, want %s", got, want)
	}
}

func TestRestartableKinds(t *testing.T) {
	for _, o := range []struct {
		owner Owner
		want  bool
	}{
		{Owner{APIVersion: "apps/v1", Kind: "Deployment"}, true},
		{Owner{APIVersion: "apps/v1", Kind: "StatefulSet"}, true},
		{Owner{APIVersion: "apps/v1", Kind: "DaemonSet"}, true},
		{Owner{APIVersion: "apps/v1", Kind: "ReplicaSet"}, false},
		{Owner{APIVersion: "batch/v1", Kind: "CronJob"}, false},
		{Owner{APIVersion: "v1", Kind: "Pod"}, false},
		{Owner{APIVersion: "argoproj.io/v1alpha1", Kind: "Deployment"}, false},
	} {
		if got := restartable(o.owner); got != o.want {
			t.Errorf("restartable(%s %s) = %v, want %v", o.owner.APIVersion, o.owner.Kind, got, o.want)
		}
	}
}
