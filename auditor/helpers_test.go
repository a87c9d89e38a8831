package auditor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/gopherscope/gopherscope/config"
)

// start is the fake clock's first reading.
var start = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// recorded is one Event the auditor asked to record.
type recorded struct {
	Regarding, Related string // "Kind namespace/name"
	Type, Reason       string
	Action, Note       string
}

// eventLog is an events.EventRecorder that keeps what it is asked to record,
// in order. (The real recorder, with its API server sink and its
// aggregation, is exercised by the end-to-end test.)
type eventLog struct {
	mu     sync.Mutex
	events []recorded
}

var _ events.EventRecorder = (*eventLog)(nil)

func (l *eventLog) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, recorded{
		Regarding: describe(regarding), Related: describe(related),
		Type: eventtype, Reason: reason, Action: action, Note: fmt.Sprintf(note, args...),
	})
}

func (l *eventLog) WithLogger(klog.Logger) events.EventRecorderLogger { return nil }

// take returns the events recorded since the last call.
func (l *eventLog) take() []recorded {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

func describe(obj runtime.Object) string {
	if obj == nil {
		return ""
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return fmt.Sprintf("%T", obj)
	}
	return obj.GetObjectKind().GroupVersionKind().Kind + " " + m.GetNamespace() + "/" + m.GetName()
}

// world is an auditor over a fake API server, with a clock the test moves.
type world struct {
	client   client.WithWatch
	registry *prometheus.Registry
	events   *eventLog
	auditor  *Auditor
	now      time.Time
	// notReady, when set, is what the webhook readiness check returns.
	notReady error
	cfg      *config.Config
	// evicted are the pods evicted, "namespace/name", in order.
	evicted []string
	// forbidden are the namespaces where no RoleBinding allows eviction;
	// guarded are the pods a PodDisruptionBudget keeps from eviction.
	forbidden, guarded map[string]bool
}

// newWorld builds an auditor with settings over a fake client holding objs.
func newWorld(t *testing.T, settings Settings, objs ...client.Object) *world {
	t.Helper()
	w := &world{
		registry:  prometheus.NewRegistry(),
		events:    &eventLog{},
		now:       start,
		cfg:       config.Default("test").ResolveNativeSidecar(37),
		forbidden: map[string]bool{},
		guarded:   map[string]bool{},
	}
	w.client = fake.NewClientBuilder().WithScheme(clientgoscheme.Scheme).WithObjects(objs...).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceCreate: w.evict}).Build()
	metrics, err := NewMetrics(w.registry)
	if err != nil {
		t.Fatal(err)
	}
	w.auditor, err = New(Options{
		Settings: settings,
		Config:   func() *config.Config { return w.cfg },
		Cache:    w.client, Live: w.client, Evictions: w.client,
		Recorder: w.events, Metrics: metrics,
		WebhookReady: func(context.Context) error { return w.notReady },
		Now:          func() time.Time { return w.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// evict answers an eviction as the API server would: Forbidden without a
// RoleBinding, TooManyRequests under a PodDisruptionBudget, else the pod is
// deleted (the fake client checks the UID precondition).
func (w *world) evict(ctx context.Context, c client.Client, sub string, obj, subObj client.Object, opts ...client.SubResourceCreateOption) error {
	key := obj.GetNamespace() + "/" + obj.GetName()
	switch {
	case sub != "eviction":
		return fmt.Errorf("unexpected subresource %q", sub)
	case w.forbidden[obj.GetNamespace()]:
		return apierrors.NewForbidden(schema.GroupResource{Resource: "pods/eviction"}, obj.GetName(), errors.New("no RoleBinding"))
	case w.guarded[key]:
		return apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10)
	}
	if err := c.SubResource(sub).Create(ctx, obj, subObj, opts...); err != nil {
		return err
	}
	w.evicted = append(w.evicted, key)
	return nil
}

// takeEvicted returns the pods evicted since the last call.
func (w *world) takeEvicted() []string {
	out := w.evicted
	w.evicted = nil
	return out
}

// observe lets the auditor poll the webhook's readiness at the current time.
func (w *world) observe(t *testing.T) {
	t.Helper()
	w.auditor.observeReadiness(t.Context())
}

// reconcile runs Reconcile on the named pods and returns their results.
func (w *world) reconcile(t *testing.T, keys ...string) []ctrl.Result {
	t.Helper()
	var results []ctrl.Result
	for _, k := range keys {
		ns, name, _ := strings.Cut(k, "/")
		res, err := w.auditor.Reconcile(t.Context(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}})
		if err != nil {
			t.Fatalf("reconcile %s: %v", k, err)
		}
		results = append(results, res)
	}
	return results
}

// assertGauge compares the gauge's exposition with want (only the samples;
// "" means no series at all).
func (w *world) assertGauge(t *testing.T, want string) {
	t.Helper()
	if want != "" {
		want = "# HELP " + MetricUninjectedPods + " " + helpOf(t, w.registry) + "\n# TYPE " + MetricUninjectedPods + " gauge\n" + want
	}
	if err := testutil.GatherAndCompare(w.registry, strings.NewReader(want), MetricUninjectedPods); err != nil {
		t.Error(err)
	}
}

// assertUnreachable checks the gauge gopherscope_webhook_unreachable.
func (w *world) assertUnreachable(t *testing.T, want float64) {
	t.Helper()
	families, err := w.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == MetricWebhookUnreachable {
			if got := f.GetMetric()[0].GetGauge().GetValue(); got != want {
				t.Errorf("%s = %v, want %v", MetricWebhookUnreachable, got, want)
			}
			return
		}
	}
	t.Errorf("no %s", MetricWebhookUnreachable)
}

func helpOf(t *testing.T, g prometheus.Gatherer) string {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == MetricUninjectedPods {
			return f.GetHelp()
		}
	}
	return "(no family)"
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

var enabled = map[string]string{config.KeyInject: config.InjectEnabled}

// pod is a one-container pod; owner, if not nil, is its controller.
func pod(ns, name string, owner client.Object, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app:1"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodPending},
	}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{controllerRef(owner)}
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

// controllerRef is a controller reference to obj, whose GVK is looked up.
func controllerRef(obj client.Object) metav1.OwnerReference {
	gvk := gvkOf(obj)
	return *metav1.NewControllerRef(obj, gvk)
}

func gvkOf(obj client.Object) schema.GroupVersionKind {
	gvks, _, err := clientgoscheme.Scheme.ObjectKinds(obj)
	if err != nil || len(gvks) == 0 {
		panic(fmt.Sprintf("no kind for %T: %v", obj, err))
	}
	return gvks[0]
}

func deployment(ns, name string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)}}
}

func replicaSet(ns, name string, owner client.Object) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)}}
	if owner != nil {
		rs.OwnerReferences = []metav1.OwnerReference{controllerRef(owner)}
	}
	return rs
}

func statefulSet(ns, name string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)}}
}

func cronJob(ns, name string) *batchv1.CronJob {
	return &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)}}
}

func job(ns, name string, owner client.Object) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name)}}
	if owner != nil {
		j.OwnerReferences = []metav1.OwnerReference{controllerRef(owner)}
	}
	return j
}

// errNotReady is what a webhook that does not serve yet reports.
var errNotReady = errors.New("webhook-server: not started")
