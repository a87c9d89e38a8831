package auditor

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gopherscope/gopherscope/config"
)

func TestReconcileCountsOnlyPodsThatShouldHaveBeenInjected(t *testing.T) {
	labels := func(l map[string]string) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Labels = l } }
	annotations := func(a map[string]string) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Annotations = a } }
	phase := func(ph corev1.PodPhase) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Status.Phase = ph } }
	tests := []struct {
		name    string
		pod     *corev1.Pod
		counted bool
	}{
		{"a pod of an opted-in namespace without the sidecar is counted", pod("shop", "bare", nil), true},
		{"a running pod is counted", pod("shop", "running", nil, phase(corev1.PodRunning)), true},
		{"a pod opted in by its own label is counted in an unlabelled namespace", pod("plain", "labelled", nil, labels(enabled)), true},
		{"a pod of an unlabelled namespace is not", pod("plain", "unlabelled", nil), false},
		{"an injected pod is not", pod("shop", "injected", nil, annotations(map[string]string{config.AnnotationStatus: `{"version":"v1"}`}), func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: config.SidecarContainerName, Image: "sidecar:1"}}
		}), false},
		{"a pod marked injected without the sidecar is taken at its word", pod("shop", "marked", nil, annotations(map[string]string{config.AnnotationStatus: "{}"})), false},
		{"a pod opted out by annotation is not", pod("shop", "annotated-out", nil, annotations(map[string]string{config.KeyInject: "false"})), false},
		{"a pod opted out by label is not", pod("shop", "labelled-out", nil, labels(map[string]string{config.KeyInject: config.InjectDisabled})), false},
		{"a pod opted in, in a disabled namespace, is not", pod("off", "labelled", nil, labels(enabled)), false},
		{"a pod of an excluded system namespace is not", pod("kube-system", "dns", nil), false},
		{"a terminating pod is not", pod("shop", "terminating", nil, func(p *corev1.Pod) {
			p.DeletionTimestamp, p.Finalizers = &metav1.Time{Time: start}, []string{"example.com/hold"}
		}), false},
		{"a succeeded pod is not", pod("shop", "succeeded", nil, phase(corev1.PodSucceeded)), false},
		{"a failed pod is not", pod("shop", "failed", nil, phase(corev1.PodFailed)), false},
		{"a mirror pod is not", pod("shop", "mirror", nil, annotations(map[string]string{corev1.MirrorPodAnnotationKey: "abc"})), false},
		{"a hostNetwork pod is not, since the config does not allow it", pod("shop", "host", nil, func(p *corev1.Pod) { p.Spec.HostNetwork = true }), false},
		{"one of gopherscope's own pods is not", pod("shop", "webhook", nil, labels(map[string]string{config.LabelComponent: "webhook"})), false},
		{"a pod whose namespace is unknown is not", pod("gone", "orphan", nil), false},
		{"a pod its namespace's LimitRange would refuse with the sidecar is not", pod("capped", "small", nil), false},
	}
	objs := []client.Object{namespace("shop", enabled), namespace("plain", nil), namespace("kube-system", enabled),
		namespace("off", map[string]string{config.KeyInject: config.InjectDisabled}), namespace("capped", enabled),
		&corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "small", Namespace: "capped"}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")},
		}}}}}
	for _, tt := range tests {
		objs = append(objs, tt.pod)
	}
	w := newWorld(t, DefaultSettings(), objs...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := w.reconcile(t, tt.pod.Namespace+"/"+tt.pod.Name)[0]
			want := ctrl.Result{}
			if tt.counted {
				want.RequeueAfter = DefaultPeriod
			}
			if diff := cmp.Diff(want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if got := w.auditor.isTracked(tt.pod); got != tt.counted {
				t.Errorf("counted = %v, want %v", got, tt.counted)
			}
		})
	}
	w.assertGauge(t, "gopherscope_uninjected_pods{namespace=\"plain\"} 1\ngopherscope_uninjected_pods{namespace=\"shop\"} 2\n")
}

func TestReconcileForgetsFixedPodsAndDropsEmptySeries(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, w *world)
	}{
		{"the pod is deleted", func(t *testing.T, w *world) {
			if err := w.client.Delete(t.Context(), pod("shop", "a", nil)); err != nil {
				t.Fatal(err)
			}
		}},
		{"the pod completes", func(t *testing.T, w *world) {
			p := &corev1.Pod{}
			if err := w.client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "a"}, p); err != nil {
				t.Fatal(err)
			}
			p.Status.Phase = corev1.PodSucceeded
			if err := w.client.Status().Update(t.Context(), p); err != nil {
				t.Fatal(err)
			}
		}},
		{"the namespace opts out", func(t *testing.T, w *world) {
			if err := w.client.Update(t.Context(), namespace("shop", map[string]string{config.KeyInject: config.InjectDisabled})); err != nil {
				t.Fatal(err)
			}
		}},
		{"the configuration excludes the namespace", func(_ *testing.T, w *world) {
			cfg := w.cfg.DeepCopy()
			cfg.ExcludedNamespaces = append(cfg.ExcludedNamespaces, "shop")
			w.cfg = cfg
		}},
		{"the configuration turns strict mode on and the pod's annotations are invalid", func(t *testing.T, w *world) {
			cfg := w.cfg.DeepCopy()
			cfg.Strict = true
			w.cfg = cfg
			p := &corev1.Pod{}
			if err := w.client.Get(t.Context(), client.ObjectKey{Namespace: "shop", Name: "a"}, p); err != nil {
				t.Fatal(err)
			}
			p.Annotations = map[string]string{config.AnnotationInterval: "often"}
			if err := w.client.Update(t.Context(), p); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, DefaultSettings(), namespace("shop", enabled), namespace("other", enabled),
				pod("shop", "a", nil), pod("other", "b", nil))
			w.reconcile(t, "shop/a", "other/b")
			w.assertGauge(t, "gopherscope_uninjected_pods{namespace=\"other\"} 1\ngopherscope_uninjected_pods{namespace=\"shop\"} 1\n")
			tt.change(t, w)
			if res := w.reconcile(t, "shop/a")[0]; res != (ctrl.Result{}) {
				t.Errorf("result %+v, want no requeue for a pod no longer counted", res)
			}
			w.assertGauge(t, "gopherscope_uninjected_pods{namespace=\"other\"} 1\n")
		})
	}
}

func TestReconcileLooksUpTheOwnerOfAPodReCreatedUnderTheSameName(t *testing.T) {
	db := statefulSet("shop", "db")
	w := newWorld(t, DefaultSettings(), namespace("shop", enabled), db, pod("shop", "db-0", nil))
	w.reconcile(t, "shop/db-0")
	if err := w.client.Delete(t.Context(), pod("shop", "db-0", nil)); err != nil {
		t.Fatal(err)
	}
	recreated := pod("shop", "db-0", db)
	recreated.UID = "uid-db-0-second"
	if err := w.client.Create(t.Context(), recreated); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(DefaultPeriod)
	w.reconcile(t, "shop/db-0")
	got := w.events.take()
	want := []string{"Pod shop/db-0", "StatefulSet shop/db"}
	if len(got) != 2 || got[0].Regarding != want[0] || got[1].Regarding != want[1] {
		t.Errorf("events regard %+v, want the bare pod first, then its StatefulSet %v", got, want)
	}
	w.assertGauge(t, "gopherscope_uninjected_pods{namespace=\"shop\"} 1\n")
}

func TestEventsGoToTheOwnerOncePerPeriod(t *testing.T) {
	web, nightly, db := deployment("shop", "web"), cronJob("shop", "nightly"), statefulSet("shop", "db")
	rs, report := replicaSet("shop", "web-7d9f", web), job("shop", "nightly-29100", nightly)
	w := newWorld(t, Settings{Period: 10 * time.Minute, RestartCooldown: time.Hour},
		namespace("shop", enabled), web, rs, nightly, report, db,
		pod("shop", "web-7d9f-a", rs), pod("shop", "web-7d9f-b", rs), pod("shop", "nightly-29100-x", report),
		pod("shop", "db-0", db), pod("shop", "lonely", nil))
	all := []string{"shop/web-7d9f-a", "shop/web-7d9f-b", "shop/nightly-29100-x", "shop/db-0", "shop/lonely"}
	w.reconcile(t, all...)
	missing := func(regarding, related, note string) recorded {
		return recorded{Regarding: regarding, Related: related, Type: corev1.EventTypeWarning, Reason: config.EventReasonSidecarMissing, Action: "Audit", Note: note}
	}
	ownerNote := func(kind, pod string) string {
		return "Pods of this " + kind + " should carry the gopherscope-sidecar container and do not (" + pod + " among them; " +
			"the metric gopherscope_uninjected_pods counts them): they were created while the gopherscope webhook was unavailable, " +
			"or before their namespace opted in. Re-creating them injects them (kubectl rollout restart, for a Deployment, StatefulSet or DaemonSet)."
	}
	podNote := "The pod should carry the gopherscope-sidecar container and does not: it was created while the gopherscope webhook " +
		"was unavailable, or before its namespace opted in. Re-creating the pod injects it."
	want := []recorded{
		missing("Deployment shop/web", "Pod shop/web-7d9f-a", ownerNote("Deployment", "web-7d9f-a")),
		missing("CronJob shop/nightly", "Pod shop/nightly-29100-x", ownerNote("CronJob", "nightly-29100-x")),
		missing("StatefulSet shop/db", "Pod shop/db-0", ownerNote("StatefulSet", "db-0")),
		missing("Pod shop/lonely", "", podNote),
	}
	if diff := cmp.Diff(want, w.events.take()); diff != "" {
		t.Errorf("first pass: one event per owner (-want +got):\n%s", diff)
	}
	w.assertGauge(t, "gopherscope_uninjected_pods{namespace=\"shop\"} 5\n")

	w.now = w.now.Add(9 * time.Minute)
	w.reconcile(t, all...)
	if got := w.events.take(); len(got) != 0 {
		t.Errorf("within the period: %d more events, want none: %+v", len(got), got)
	}

	w.now = w.now.Add(time.Minute)
	w.reconcile(t, all...)
	if diff := cmp.Diff(want, w.events.take()); diff != "" {
		t.Errorf("after a period: the same events again (-want +got):\n%s", diff)
	}
}
