package auditor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/gopherscope/gopherscope/config"
)

// Names the auditor uses in the cluster.
const (
	// ControllerName names the controller, its Event recorder (the Events'
	// reportingController) and its logger.
	ControllerName = "gopherscope-auditor"
)

// configPollInterval is how often the auditor looks for a new injection
// configuration (a pointer comparison) to judge every pod again.
const configPollInterval = 5 * time.Second

// Options are what New needs. Every field but Now is required.
type Options struct {
	// Settings are the knobs.
	Settings Settings
	// Config returns the current injection configuration, the webhook's own
	// (hot-reloaded, nativeSidecar resolved, its namespace excluded).
	Config func() *config.Config
	// Cache reads pod and namespace metadata from the manager's informers.
	Cache client.Reader
	// Live reads from the API server: the full pod of a candidate and an
	// intermediate owner's metadata.
	Live client.Reader
	// Evictions evicts an uninjected pod (the pods/eviction subresource),
	// with Settings.RolloutRestart.
	Evictions client.SubResourceClientConstructor
	// Recorder records the Events.
	Recorder events.EventRecorder
	// Metrics receives the gauge.
	Metrics *Metrics
	// WebhookReady reports whether this process's webhook serves. A pod is
	// evicted only then, since a pod re-created while no webhook answers
	// would lack the sidecar again; and an uninjected pod created while it
	// was ready shows that the API server cannot reach it.
	WebhookReady func(context.Context) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Auditor is the reconciler: it keeps the set of uninjected pods with their
// owners, and reports it. It is safe for concurrent use.
type Auditor struct {
	opts Options

	mu sync.Mutex
	// pods are the uninjected pods, by name.
	pods map[types.NamespacedName]trackedPod
	// perNamespace counts pods by namespace (the gauge's values).
	perNamespace map[string]int
	// lastEvent and lastRestart are when an owner last got a
	// SidecarMissing Event and a restart, by owner UID.
	lastEvent   map[types.UID]time.Time
	lastRestart map[types.UID]time.Time
	// denied are the namespaces that refused an eviction, and when.
	denied map[string]time.Time
	// readySince is the start of the webhook's current unbroken ready
	// stretch (zero while not ready); configChanged and namespaceChanged
	// are when the configuration, and a namespace's inject label, last
	// changed. See createdWhileReady.
	readySince       time.Time
	lastConfig       *config.Config
	configChanged    time.Time
	namespaceChanged map[string]time.Time
	// whileReady counts the tracked pods created while the webhook was ready.
	whileReady int
	// lastInjected is the creation time of the newest injected pod seen;
	// probeAt is when a pod was last evicted before any pod injected during
	// the current ready stretch proved the webhook reachable. See
	// reachabilityGate.
	lastInjected, probeAt time.Time
}

// trackedPod is an uninjected pod: its UID (a pod re-created under the same
// name is looked up again), its owner, and whether it was created while the
// webhook was ready (see createdWhileReady).
type trackedPod struct {
	uid        types.UID
	owner      Owner
	whileReady bool
}

// New checks opts and returns an Auditor.
func New(opts Options) (*Auditor, error) {
	errs := []error{opts.Settings.Validate()}
	for _, req := range []struct {
		name    string
		missing bool
	}{
		{"Config", opts.Config == nil},
		{"Cache", opts.Cache == nil},
		{"Live", opts.Live == nil},
		{"Evictions", opts.Evictions == nil},
		{"Recorder", opts.Recorder == nil},
		{"Metrics", opts.Metrics == nil},
		{"WebhookReady", opts.WebhookReady == nil},
	} {
		if req.missing {
			errs = append(errs, fmt.Errorf("auditor option %s is missing", req.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Auditor{
		opts:         opts,
		pods:         map[types.NamespacedName]trackedPod{},
		perNamespace: map[string]int{},
		lastEvent:    map[types.UID]time.Time{},
		lastRestart:  map[types.UID]time.Time{},
		denied:       map[string]time.Time{},
		// The configuration the process started with is no change.
		lastConfig:       opts.Config(),
		namespaceChanged: map[string]time.Time{},
	}, nil
}

// CacheByObject is the cache configuration the auditor needs from the
// manager: pod metadata trimmed by TrimPodMetadata.
func CacheByObject() map[client.Object]cache.ByObject {
	return map[client.Object]cache.ByObject{podMetadata(): {Transform: TrimPodMetadata}}
}

// SetupWithManager registers the controller: pods (metadata) and their
// namespaces' inject label are watched, every pod is judged again when the
// configuration changes, and the webhook's readiness is polled. The
// manager's cache must be configured with CacheByObject. The controller
// runs on the elected replica only.
func (a *Auditor) SetupWithManager(mgr ctrl.Manager) error {
	resync := &configResync{config: a.opts.Config, cache: a.opts.Cache, events: make(chan event.GenericEvent), interval: configPollInterval}
	err := ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&corev1.Pod{}, builder.OnlyMetadata, builder.WithPredicates(podEvents(a.isTracked))).
		WatchesMetadata(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(a.podsOfNamespace), builder.WithPredicates(namespaceEvents())).
		WatchesRawSource(source.Channel(resync.events, &handler.EnqueueRequestForObject{})).
		Complete(a)
	if err != nil {
		return fmt.Errorf("create the auditor controller: %w", err)
	}
	if err := mgr.Add(resync); err != nil {
		return fmt.Errorf("add the auditor's configuration resync: %w", err)
	}
	if err := mgr.Add(&readinessWatch{auditor: a, interval: readinessPollInterval}); err != nil {
		return fmt.Errorf("add the auditor's readiness watch: %w", err)
	}
	return nil
}

// podsOfNamespace maps a namespace event (creation, deletion, a change of
// its inject label) to its pods, and notes the change.
func (a *Auditor) podsOfNamespace(ctx context.Context, ns client.Object) []ctrl.Request {
	a.noteNamespaceChange(ns.GetName())
	pods := podMetadataList()
	if err := a.opts.Cache.List(ctx, pods, client.InNamespace(ns.GetName())); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list the pods of a namespace whose inject label changed", "namespace", ns.GetName())
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(pods.Items))
	for _, p := range pods.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(&p)})
	}
	return reqs
}

// isTracked reports whether obj is a pod counted as uninjected.
func (a *Auditor) isTracked(obj client.Object) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.pods[client.ObjectKeyFromObject(obj)]
	return ok
}

// podMetadata is the cached form of a pod: its metadata only.
func podMetadata() *metav1.PartialObjectMetadata {
	p := &metav1.PartialObjectMetadata{}
	p.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	return p
}

func podMetadataList() *metav1.PartialObjectMetadataList {
	l := &metav1.PartialObjectMetadataList{}
	l.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	return l
}

func namespaceMetadata() *metav1.PartialObjectMetadata {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return ns
}
