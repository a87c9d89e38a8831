//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gopherscope/gopherscope/auditor"
	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// TestAuditor stops the webhook, creates workloads' pods in opted-in
// namespaces (failurePolicy Ignore: they are created without the sidecar;
// no controller-manager runs, so the test creates the pods itself, with the
// owner references a ReplicaSet, StatefulSet or Job would give them), then
// starts the webhook with the auditor, as the chart's ServiceAccount and
// with leader election: the metric counts them per namespace, their owners
// get one SidecarMissing Event each, and, once evictions are allowed in a
// namespace, one pod of its Deployment and of its StatefulSet is evicted.
func TestAuditor(t *testing.T) {
	e := startEnv(t, nil) // the chart's defaults: the auditor on, two replicas, so a Lease
	if err := e.webhook.Stop(); err != nil {
		t.Fatalf("stop the webhook: %v", err)
	}
	enabled := map[string]string{config.KeyInject: config.InjectEnabled}
	shop, batch := e.namespace(t, "shop", enabled), e.namespace(t, "batch", enabled)
	plain, late := e.namespace(t, "plain", nil), e.namespace(t, "late", nil)

	web := mustCreate(t, e.client.AppsV1().Deployments(shop).Create, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Selector: appSelector("web"), Template: appPodTemplate("web", corev1.RestartPolicyAlways)}})
	rs := mustCreate(t, e.client.AppsV1().ReplicaSets(shop).Create, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-6f7c", OwnerReferences: controllerRefs(web, "Deployment")},
		Spec: appsv1.ReplicaSetSpec{Selector: appSelector("web"), Template: appPodTemplate("web", corev1.RestartPolicyAlways)}})
	db := mustCreate(t, e.client.AppsV1().StatefulSets(shop).Create, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: appsv1.StatefulSetSpec{
		Selector: appSelector("db"), Template: appPodTemplate("db", corev1.RestartPolicyAlways)}})
	nightly := mustCreate(t, e.client.BatchV1().CronJobs(batch).Create, &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "nightly"}, Spec: batchv1.CronJobSpec{
		Schedule: "0 3 * * *", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: appPodTemplate("nightly", corev1.RestartPolicyNever)}}}})
	report := mustCreate(t, e.client.BatchV1().Jobs(batch).Create, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "nightly-29100", OwnerReferences: controllerRefs(nightly, "CronJob")},
		Spec: batchv1.JobSpec{Template: appPodTemplate("nightly", corev1.RestartPolicyNever)}})

	ownedPod := func(ns, name string, ctl metav1.Object, kind string) *corev1.Pod {
		p := goPod(ns, name, nil, nil)
		p.OwnerReferences = controllerRefs(ctl, kind)
		return p
	}
	e.create(t, ownedPod(shop, "web-6f7c-a", rs, "ReplicaSet"))
	e.create(t, ownedPod(shop, "web-6f7c-b", rs, "ReplicaSet"))
	e.create(t, ownedPod(shop, "db-0", db, "StatefulSet"))
	e.create(t, goPod(shop, "opted-out", nil, map[string]string{config.KeyInject: config.InjectAnnotationFalse}))
	finished := e.create(t, goPod(shop, "finished", nil, nil))
	finished.Status.Phase = corev1.PodSucceeded
	if _, err := e.client.CoreV1().Pods(shop).UpdateStatus(t.Context(), finished, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("mark pod finished as succeeded: %v", err)
	}
	e.terminatingPod(t, shop, "terminating")
	jobPod := ownedPod(batch, "nightly-29100-x", report, "Job")
	jobPod.Spec.RestartPolicy = corev1.RestartPolicyNever
	e.create(t, jobPod)
	e.create(t, goPod(batch, "lonely", nil, nil))
	e.create(t, goPod(plain, "labelled", enabled, nil))
	e.create(t, goPod(plain, "bystander", nil, nil))
	e.create(t, goPod(late, "early", nil, nil))

	kubeconfig, err := e.cluster.ServiceAccountKubeconfig(e.release.Namespace, localcluster.DefaultRelease)
	if err != nil {
		t.Fatal(err)
	}
	auditorArgs := []string{"--auditor", "--leader-elect", "--leader-election-id=" + localcluster.DefaultRelease + "-auditor"}
	if err := e.webhook.RestartWith(t.Context(), auditorArgs, []string{"KUBECONFIG=" + kubeconfig}); err != nil {
		t.Fatalf("start the webhook with the auditor, as the chart's ServiceAccount: %v", err)
	}

	t.Run("the metric counts the uninjected pods of each namespace", func(t *testing.T) {
		e.waitForUninjected(t, map[string]float64{shop: 3, batch: 2, plain: 1})
	})

	t.Run("a pod created now is injected and not counted", func(t *testing.T) {
		assertInjected(t, e.create(t, goPod(shop, "fresh", nil, nil)), "10s")
		time.Sleep(2 * time.Second) // the auditor sees the pod within milliseconds
		e.waitForUninjected(t, map[string]float64{shop: 3, batch: 2, plain: 1})
	})

	t.Run("each owner gets one SidecarMissing warning", func(t *testing.T) {
		want := map[string]int{
			"Deployment " + shop + "/web": 1, "StatefulSet " + shop + "/db": 1,
			"CronJob " + batch + "/nightly": 1, "Pod " + batch + "/lonely": 1, "Pod " + plain + "/labelled": 1,
		}
		e.waitForEvents(t, config.EventReasonSidecarMissing, want, shop, batch, plain)
	})

	t.Run("the auditor holds the leader election Lease", func(t *testing.T) {
		lease, err := e.client.CoordinationV1().Leases(e.release.Namespace).Get(t.Context(), localcluster.DefaultRelease+"-auditor", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get the Lease: %v", err)
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			t.Errorf("the Lease has no holder: %+v", lease.Spec)
		}
	})

	t.Run("labelling a namespace counts its pods; deleting pods removes the series", func(t *testing.T) {
		ns, err := e.client.CoreV1().Namespaces().Get(t.Context(), late, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ns.Labels = enabled
		if _, err := e.client.CoreV1().Namespaces().Update(t.Context(), ns, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"lonely", "nightly-29100-x"} {
			if err := e.client.CoreV1().Pods(batch).Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		e.waitForUninjected(t, map[string]float64{shop: 3, plain: 1, late: 1})
	})

	webPods := []string{"web-6f7c-a", "web-6f7c-b", "db-0"}
	t.Run("nothing is evicted by default", func(t *testing.T) {
		if got := e.existingPods(t, shop, webPods...); !cmp.Equal(webPods, got) {
			t.Errorf("pods left of %v: %v", webPods, got)
		}
	})

	t.Run("with rollout restarts on and a RoleBinding in the namespace, one pod of each workload is evicted", func(t *testing.T) {
		if err := e.release.Upgrade(t.Context(), map[string]string{"auditor.rolloutRestart": "true"}); err != nil {
			t.Fatal(err) // ships the eviction ClusterRole, bound nowhere
		}
		// The namespace opts in, as NOTES.txt says.
		mustCreate(t, e.client.RbacV1().RoleBindings(shop).Create, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "gopherscope-restart"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: localcluster.DefaultRelease + "-restart"},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: localcluster.DefaultRelease, Namespace: e.release.Namespace}},
		})
		if err := e.webhook.RestartWith(t.Context(), []string{"--auditor-restart", "--auditor-period=2s"}, nil); err != nil {
			t.Fatal(err)
		}
		// No controller re-creates the pods here, so nothing shows the webhook
		// reachable but the first eviction's probe: one pod is evicted, then
		// none until a pod created since the webhook became ready is injected.
		e.waitForEventCount(t, config.EventReasonPodEvicted, 1, shop)
		assertInjected(t, e.create(t, goPod(shop, "proof", nil, nil)), "10s")
		e.waitForEvents(t, config.EventReasonPodEvicted, map[string]int{"Deployment " + shop + "/web": 1, "StatefulSet " + shop + "/db": 1}, shop)
		left := e.existingPods(t, shop, webPods...)
		if len(left) != 1 || left[0] == "db-0" {
			t.Errorf("pods left of %v: %v; want one of the Deployment's two (one eviction per workload per cool-down)", webPods, left)
		}
		for _, name := range []string{"web", "db"} {
			if gen := e.workloadGeneration(t, shop, name); gen != 1 {
				t.Errorf("%s was modified (generation %d): the auditor must evict pods, never change workloads", name, gen)
			}
		}
	})
}

// existingPods returns which of the named pods of ns still exist.
func (e *env) existingPods(t *testing.T, ns string, names ...string) []string {
	t.Helper()
	var out []string
	for _, name := range names {
		_, err := e.client.CoreV1().Pods(ns).Get(t.Context(), name, metav1.GetOptions{})
		switch {
		case err == nil:
			out = append(out, name)
		case !apierrors.IsNotFound(err):
			t.Fatal(err)
		}
	}
	return out
}

// workloadGeneration is the generation of the Deployment or StatefulSet name.
func (e *env) workloadGeneration(t *testing.T, ns, name string) int64 {
	t.Helper()
	if d, err := e.client.AppsV1().Deployments(ns).Get(t.Context(), name, metav1.GetOptions{}); err == nil {
		return d.Generation
	}
	return e.getStatefulSet(t, ns, name).Generation
}

// waitForEventCount waits until n Events with reason were recorded by the
// auditor in ns, whatever they regard.
func (e *env) waitForEventCount(t *testing.T, reason string, n int, ns string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		list, err := e.client.EventsV1().Events(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("list events in %s: %v", ns, err)
		}
		got = 0
		for _, ev := range list.Items {
			if ev.Reason == reason && ev.ReportingController == auditor.ControllerName {
				got++
			}
		}
		if got >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%d %s events in %s, want %d\n%s", got, reason, ns, n, e.webhook.LogTail(20))
}

// waitForUninjected waits until gopherscope_uninjected_pods has exactly the
// given namespaces and values (of the namespaces this test created).
func (e *env) waitForUninjected(t *testing.T, want map[string]float64) {
	t.Helper()
	var got map[string]float64
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		samples, err := localcluster.Scrape(t.Context(), e.webhook.MetricsURL)
		if err != nil {
			t.Fatalf("scrape the webhook: %v", err)
		}
		got = map[string]float64{}
		for series, v := range samples {
			if ns, ok := strings.CutPrefix(series, auditor.MetricUninjectedPods+`{namespace="`); ok {
				got[strings.TrimSuffix(ns, `"}`)] = v
			}
		}
		if cmp.Equal(want, got) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s by namespace (-want +got):\n%s\n%s", auditor.MetricUninjectedPods, cmp.Diff(want, got), e.webhook.LogTail(20))
}

// waitForEvents waits until the Events with reason, recorded by the
// auditor in the namespaces, are exactly want: "Kind namespace/name" of the
// object they regard, to their number (an aggregated series counts once).
func (e *env) waitForEvents(t *testing.T, reason string, want map[string]int, namespaces ...string) {
	t.Helper()
	var got map[string]int
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		got = map[string]int{}
		for _, ns := range namespaces {
			list, err := e.client.EventsV1().Events(ns).List(t.Context(), metav1.ListOptions{})
			if err != nil {
				t.Fatalf("list events in %s: %v", ns, err)
			}
			for _, ev := range list.Items {
				if ev.Reason != reason || ev.ReportingController != auditor.ControllerName {
					continue
				}
				wantType := corev1.EventTypeWarning
				if reason == config.EventReasonPodEvicted {
					wantType = corev1.EventTypeNormal
				}
				if ev.Type != wantType || ev.Note == "" {
					t.Errorf("event %s: type %q, note %q; want %s with a note", ev.Name, ev.Type, ev.Note, wantType)
				}
				got[ev.Regarding.Kind+" "+ev.Regarding.Namespace+"/"+ev.Regarding.Name]++
			}
		}
		if cmp.Equal(want, got) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s events by regarded object (-want +got):\n%s\n%s", reason, cmp.Diff(want, got), e.webhook.LogTail(20))
}

// terminatingPod creates a pod held by a finalizer and deletes it, so it
// stays Terminating; the finalizer is removed when the test ends.
func (e *env) terminatingPod(t *testing.T, ns, name string) {
	t.Helper()
	p := goPod(ns, name, nil, nil)
	p.Finalizers = []string{"gopherscope.io/e2e-hold"}
	e.create(t, p)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // t.Context() has ended
		defer cancel()
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		if _, err := e.client.CoreV1().Pods(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Errorf("release pod %s/%s: %v", ns, name, err)
		}
	})
	if err := e.client.CoreV1().Pods(ns).Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod %s/%s: %v", ns, name, err)
	}
}

func (e *env) getStatefulSet(t *testing.T, ns, name string) *appsv1.StatefulSet {
	t.Helper()
	s, err := e.client.AppsV1().StatefulSets(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustCreate calls a typed client's Create and fails the test on error.
func mustCreate[T metav1.Object](t *testing.T, createFunc func(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error), obj T) T {
	t.Helper()
	out, err := createFunc(t.Context(), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create %T %s: %v", obj, obj.GetName(), err)
	}
	return out
}

// controllerRefs is a controller reference to ctl, of the given kind.
func controllerRefs(ctl metav1.Object, kind string) []metav1.OwnerReference {
	apiVersion := map[string]string{"Deployment": "apps/v1", "ReplicaSet": "apps/v1", "StatefulSet": "apps/v1", "CronJob": "batch/v1", "Job": "batch/v1"}[kind]
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: ctl.GetName(), UID: ctl.GetUID(), Controller: boolPtr(true)}}
}

func appSelector(app string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}}
}

// appPodTemplate is a pod template running the demo app, as goPod does.
func appPodTemplate(app string, restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	spec := goPod("", "", nil, nil).Spec
	spec.RestartPolicy = restart
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}}, Spec: spec}
}

func boolPtr(v bool) *bool { return &v }
