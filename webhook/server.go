package webhook

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/auditor"
	"github.com/gopherscope/gopherscope/config"
)

// Path is where the webhook server serves the pod injector.
const Path = "/inject"

// Names of the certificate files in Options.CertDir (a kubernetes.io/tls Secret).
const (
	CertFile = "tls.crt"
	KeyFile  = "tls.key"
)

// Options configure Run.
type Options struct {
	// RestConfig reaches the API server (namespace labels, server version).
	RestConfig *rest.Config
	// ConfigPath is the injection config file, hot-reloaded on change; ""
	// means the built-in defaults (config.Default).
	ConfigPath string
	// Version is the binary's version: the default sidecar image tag and
	// the version recorded in injected pods.
	Version string
	// Namespace is the webhook's own namespace; it is never injected.
	Namespace string
	// Host is the address the webhook server listens on ("" = all).
	Host string
	// Port is the webhook server's HTTPS port.
	Port int
	// CertDir holds CertFile and KeyFile; they are re-read when they change.
	CertDir string
	// MetricsAddress is where /metrics is served ("0" = off).
	MetricsAddress string
	// HealthAddress is where /healthz and /readyz are served ("0" = off).
	HealthAddress string
	// EnableHTTP2 lets clients use HTTP/2. It is off by default: HTTP/2's
	// stream handling has been the vector of denial-of-service attacks
	// (CVE-2023-44487, CVE-2023-39325), and the API server does not need it.
	EnableHTTP2 bool
	// Registry receives the injections metric; nil means controller-runtime's
	// registry, served on /metrics with its own webhook latency histograms.
	Registry prometheus.Registerer
	// Auditor, when not nil, runs the auditor (package auditor) in this
	// process with these settings, reporting into Registry.
	Auditor *auditor.Settings
	// LeaderElection makes the replicas elect one to run the auditor, with a
	// Lease named LeaderElectionID in Namespace; every replica serves the
	// webhook. It needs Auditor and Namespace.
	LeaderElection bool
	// LeaderElectionID names the Lease; "" means DefaultLeaderElectionID.
	LeaderElectionID string
	// SelfTLS, when not nil, makes the webhook manage its certificate in a
	// Secret of Namespace, mounted as CertDir (see SelfTLS).
	SelfTLS *SelfTLS
	// DiagnosticsCAConfigMap names the ConfigMap of Namespace that holds
	// the diagnostics CA bundle (DiagnosticsCAReader); "" reads none, and
	// pods get no diagnostics port.
	DiagnosticsCAConfigMap string
	// DiagnosticsCAInterval is how often that ConfigMap is read; 0 means
	// DefaultDiagnosticsCAInterval.
	DiagnosticsCAInterval time.Duration
}

// Run serves the pod injector until ctx ends, then shuts down gracefully.
// It logs through the logger in ctx (or controller-runtime's global one).
func Run(ctx context.Context, opts Options) error {
	log := logf.FromContext(ctx).WithName("gopherscope-webhook")
	ctx = logf.IntoContext(ctx, log)
	if opts.LeaderElection && (opts.Auditor == nil || opts.Namespace == "") {
		return errors.New("leader election elects the auditor's replica: it needs the auditor on and a namespace for its Lease")
	}
	if opts.SelfTLS != nil && opts.Namespace == "" {
		return errors.New("self-managed TLS keeps its Secret in the webhook's namespace: it needs one")
	}
	provider, watcher, serverMinor, err := loadServerConfig(ctx, opts, log)
	if err != nil {
		return err
	}
	certs, server, err := newTLSServer(opts)
	if err != nil {
		return err
	}
	mgr, err := newManager(opts, log, server)
	if err != nil {
		return err
	}
	if err := mgr.Add(certs); err != nil {
		return fmt.Errorf("add the certificate watcher: %w", err)
	}
	if opts.SelfTLS != nil {
		if err := addSelfTLS(mgr, opts.Namespace, opts.CertDir, opts.SelfTLS); err != nil {
			return err
		}
	}
	if watcher != nil {
		if err := mgr.Add(watcher); err != nil {
			return fmt.Errorf("add the config watcher: %w", err)
		}
	}
	if err := addDiagnosticsCAReader(mgr, opts, provider, log); err != nil {
		return err
	}
	registry := opts.Registry
	if registry == nil {
		registry = crmetrics.Registry
	}
	caches, err := registerInjector(ctx, mgr, provider, registry, serverMinor)
	if err != nil {
		return err
	}
	checks, err := addChecks(mgr, server, certs, caches)
	if err != nil {
		return err
	}
	if opts.Auditor != nil {
		if err := setupAuditor(mgr, *opts.Auditor, provider, registry, readiness(checks)); err != nil {
			return err
		}
	}

	log.Info("starting", "port", opts.Port, "path", Path, "certDir", opts.CertDir,
		"metricsAddress", opts.MetricsAddress, "healthAddress", opts.HealthAddress, "http2", opts.EnableHTTP2,
		"auditor", opts.Auditor != nil, "leaderElection", opts.LeaderElection, "diagnosticsCAConfigMap", opts.DiagnosticsCAConfigMap)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("run the webhook: %w", err)
	}
	log.Info("stopped")
	return nil
}

// certSource serves the certificate of the webhook's HTTPS server.
type certSource interface {
	// Start watches the certificate until ctx ends.
	Start(ctx context.Context) error
	// GetCertificate is tls.Config's.
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
}

// newTLSServer returns the webhook's HTTPS server and the watcher of its
// certificate files. With SelfTLS the files may not exist yet: they are
// waited for.
func newTLSServer(opts Options) (certSource, crwebhook.Server, error) {
	certFile, keyFile := filepath.Join(opts.CertDir, CertFile), filepath.Join(opts.CertDir, KeyFile)
	var certs certSource
	if opts.SelfTLS != nil {
		certs = &waitingCerts{certFile: certFile, keyFile: keyFile, poll: time.Second}
	} else {
		watcher, err := certwatcher.New(certFile, keyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("load the serving certificate from %q: %w", opts.CertDir, err)
		}
		certs = watcher
	}
	server := crwebhook.NewServer(crwebhook.Options{
		Host:    opts.Host,
		Port:    opts.Port,
		TLSOpts: []func(*tls.Config){tlsOptions(certs, opts.EnableHTTP2)},
	})
	return certs, server, nil
}

// newManager returns the controller-runtime manager that runs the server,
// the metrics and health endpoints, the caches and the auditor's election.
func newManager(opts Options, log logr.Logger, server crwebhook.Server) (ctrl.Manager, error) {
	cacheOptions := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if opts.Auditor != nil {
		cacheOptions.ByObject = auditor.CacheByObject()
	}
	cacheOptions.ByObject = nodeCacheOptions(cacheOptions.ByObject)
	mgr, err := ctrl.NewManager(opts.RestConfig, ctrl.Options{
		Logger:                 log,
		Metrics:                metricsserver.Options{BindAddress: opts.MetricsAddress},
		HealthProbeBindAddress: opts.HealthAddress,
		WebhookServer:          server,
		// Only the auditor is elected; the webhook server, the certificate
		// and config watchers run on every replica.
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              cmp.Or(opts.LeaderElectionID, DefaultLeaderElectionID),
		LeaderElectionNamespace:       opts.Namespace,
		LeaderElectionReleaseOnCancel: true,
		Cache:                         cacheOptions,
	})
	if err != nil {
		return nil, fmt.Errorf("create the manager: %w", err)
	}
	return mgr, nil
}

// registerInjector serves the pod injector on Path and the workload
// validator on WorkloadPath, and returns the informers they read through,
// by readiness check name: namespace metadata (labels), LimitRanges and,
// where the oldest kubelet decides nativeSidecar: auto (API servers 1.29 to
// 1.31), nodes.
func registerInjector(ctx context.Context, mgr ctrl.Manager, provider *ConfigProvider, registry prometheus.Registerer, serverMinor int) (map[string]cache.Informer, error) {
	metrics, err := NewMetrics(registry)
	if err != nil {
		return nil, err
	}
	// The informers start with the manager's cache.
	caches := map[string]cache.Informer{}
	watch := func(check, what string, obj client.Object) error {
		informer, err := mgr.GetCache().GetInformer(ctx, obj)
		if err != nil {
			return fmt.Errorf("watch %s: %w", what, err)
		}
		caches[check] = informer
		return nil
	}
	if err := watch("namespace-cache", "namespaces", namespaceMetadata()); err != nil {
		return nil, err
	}
	if err := watch("limitrange-cache", "limitranges", limitRangeObject()); err != nil {
		return nil, err
	}
	var kubelets KubeletVersionLookup
	if config.NeedsKubeletVersion(config.NativeSidecarAuto, serverMinor) {
		if err := watch("node-cache", "nodes", &corev1.Node{}); err != nil {
			return nil, err
		}
		kubelets = ClusterKubelets{Cache: mgr.GetCache()}
	}
	lookup := ClusterNamespaces{Cache: mgr.GetCache(), Live: mgr.GetAPIReader()}
	ranges := ClusterLimitRanges{Cache: mgr.GetCache()}
	// GetWebhookServer adds the server to the manager's runnables.
	mgr.GetWebhookServer().Register(Path, &admission.Webhook{
		Handler: &PodInjector{
			Config:      provider,
			Namespaces:  lookup,
			LimitRanges: ranges,
			ServerMinor: serverMinor,
			Kubelets:    kubelets,
			Metrics:     metrics,
		},
		// The handler logs one line per request with its own keys.
		LogConstructor: func(base logr.Logger, _ *admission.Request) logr.Logger { return base },
	})
	if err := registerWorkloadValidator(mgr.GetWebhookServer(), provider, lookup, ranges, registry); err != nil {
		return nil, err
	}
	return caches, nil
}

// cacheNames name the injector's caches, by readiness check, for messages.
var cacheNames = map[string]string{"namespace-cache": "namespace cache", "limitrange-cache": "LimitRange cache", "node-cache": "node cache"}

// addChecks adds /readyz's checks (the server started, a certificate
// loaded, each of the injector's caches synced) and /healthz's, and returns
// the readiness checks.
func addChecks(mgr ctrl.Manager, server crwebhook.Server, certs certSource, caches map[string]cache.Informer) (map[string]healthz.Checker, error) {
	checks := map[string]healthz.Checker{
		"webhook-server": server.StartedChecker(),
		"certificate": func(*http.Request) error {
			if cert, _ := certs.GetCertificate(nil); cert == nil {
				return errors.New("no serving certificate loaded")
			}
			return nil
		},
	}
	for name, informer := range caches {
		checks[name] = func(*http.Request) error {
			if !informer.HasSynced() {
				return fmt.Errorf("the %s has not synced", cacheNames[name])
			}
			return nil
		}
	}
	for name, check := range checks {
		if err := mgr.AddReadyzCheck(name, check); err != nil {
			return nil, fmt.Errorf("add readiness check %s: %w", name, err)
		}
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, fmt.Errorf("add health check: %w", err)
	}
	return checks, nil
}

// tlsOptions serves the certificate the watcher holds (re-read when its
// files change), refuses TLS below 1.2 and, unless enabled, HTTP/2.
func tlsOptions(certs certSource, enableHTTP2 bool) func(*tls.Config) {
	return func(c *tls.Config) {
		c.MinVersion = tls.VersionTLS12
		c.GetCertificate = certs.GetCertificate
		if !enableHTTP2 {
			c.NextProtos = []string{"http/1.1"}
		}
	}
}
