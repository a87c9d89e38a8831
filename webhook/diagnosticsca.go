package webhook

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/gopherscope/gopherscope/config"
)

// Defaults of DiagnosticsCAReader.
const (
	// DefaultDiagnosticsCAInterval is how often the bundle is read again.
	DefaultDiagnosticsCAInterval = 30 * time.Second
	// diagnosticsCAFirstInterval is how often it is read until a first
	// good bundle is there: at install the webhook usually starts before
	// the diagnostics server has published one, and the pods created in
	// between get no diagnostics port.
	diagnosticsCAFirstInterval = 2 * time.Second
	// diagnosticsCAReadTimeout bounds one read.
	diagnosticsCAReadTimeout = 10 * time.Second
)

// DiagnosticsCAReader keeps the diagnostics CA bundle of the injected pods
// up to date: the key config.DiagnosticsCAKey of a ConfigMap, which the
// diagnostics server publishes. It reads it with a plain GET (RBAC: get on
// that one ConfigMap, no list or watch) when it starts and then every
// Interval, in the background: no admission request ever waits for it.
// Each valid bundle (config.ParseDiagnosticsCA) goes to the Provider; a
// missing ConfigMap, an empty or invalid bundle or a failed read is logged
// (once, until the problem changes) and the last good bundle is kept, so
// pods are injected without the diagnostics port only until a first good one
// has been read.
type DiagnosticsCAReader struct {
	// Reader reads the ConfigMap; the manager's API reader, which asks the
	// API server directly (a cache would need list and watch).
	Reader client.Reader
	// Namespace and Name name the ConfigMap.
	Namespace, Name string
	// Interval is how often it is read; 0 means DefaultDiagnosticsCAInterval.
	Interval time.Duration
	// Provider receives every new good bundle.
	Provider *ConfigProvider
	// Log receives the reader's lines.
	Log logr.Logger

	// bundle is the last good bundle; problem the last problem logged.
	bundle, problem string
}

var _ manager.LeaderElectionRunnable = (*DiagnosticsCAReader)(nil)

// NeedLeaderElection is false: every replica injects pods.
func (r *DiagnosticsCAReader) NeedLeaderElection() bool { return false }

// Start reads the bundle now and then every Interval (every 2 s until a
// first good one is read) until ctx ends.
func (r *DiagnosticsCAReader) Start(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = DefaultDiagnosticsCAInterval
	}
	for {
		r.Refresh(ctx)
		wait := interval
		if r.bundle == "" {
			wait = min(interval, diagnosticsCAFirstInterval)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// Refresh reads the bundle once and hands it to the Provider if it is good
// and new. Start calls it; it is not safe for concurrent use.
func (r *DiagnosticsCAReader) Refresh(ctx context.Context) {
	roots, bundle, err := r.read(ctx)
	if err != nil {
		if problem := err.Error(); problem != r.problem {
			r.problem = problem
			r.Log.Error(err, "diagnostics CA bundle not available; pods are injected without the diagnostics port until one is read",
				"configMap", r.Namespace+"/"+r.Name, "previousBundleKept", r.bundle != "")
		}
		return
	}
	if r.problem != "" {
		r.problem = ""
		r.Log.Info("diagnostics CA bundle readable again", "configMap", r.Namespace+"/"+r.Name)
	}
	if bundle == r.bundle {
		return
	}
	r.bundle = bundle
	r.Provider.SetDiagnosticsCA(bundle)
	subjects, fingerprints := make([]string, len(roots)), make([]string, len(roots))
	for i, root := range roots {
		sum := sha256.Sum256(root.Raw)
		subjects[i], fingerprints[i] = root.Subject.String(), hex.EncodeToString(sum[:])
	}
	r.Log.Info("diagnostics CA bundle loaded; injected pods get the diagnostics port", "configMap", r.Namespace+"/"+r.Name,
		"roots", len(roots), "subjects", subjects, "sha256", fingerprints)
}

// read gets the ConfigMap and checks its bundle.
func (r *DiagnosticsCAReader) read(ctx context.Context) ([]*x509.Certificate, string, error) {
	ctx, cancel := context.WithTimeout(ctx, diagnosticsCAReadTimeout)
	defer cancel()
	var cm corev1.ConfigMap
	err := r.Reader.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: r.Name}, &cm)
	switch {
	case apierrors.IsNotFound(err):
		return nil, "", fmt.Errorf("ConfigMap %s/%s not found (the chart creates it; check --diagnostics-ca-configmap)", r.Namespace, r.Name)
	case apierrors.IsForbidden(err):
		return nil, "", fmt.Errorf("reading ConfigMap %s/%s is forbidden: the webhook's Role needs get on configmaps with resourceNames [%s]: %w", r.Namespace, r.Name, r.Name, err)
	case err != nil:
		return nil, "", fmt.Errorf("read ConfigMap %s/%s: %w", r.Namespace, r.Name, err)
	}
	data, ok := cm.Data[config.DiagnosticsCAKey]
	if !ok {
		return nil, "", fmt.Errorf("ConfigMap %s/%s has no key %s yet (the diagnostics server publishes it)", r.Namespace, r.Name, config.DiagnosticsCAKey)
	}
	roots, bundle, err := config.ParseDiagnosticsCA([]byte(data))
	if err != nil {
		return nil, "", fmt.Errorf("ConfigMap %s/%s, key %s: %w", r.Namespace, r.Name, config.DiagnosticsCAKey, err)
	}
	return roots, bundle, nil
}

// addDiagnosticsCAReader runs a DiagnosticsCAReader of
// opts.DiagnosticsCAConfigMap, in the webhook's namespace, feeding provider;
// none without a ConfigMap name.
func addDiagnosticsCAReader(mgr manager.Manager, opts Options, provider *ConfigProvider, log logr.Logger) error {
	if opts.DiagnosticsCAConfigMap == "" {
		return nil
	}
	if opts.Namespace == "" {
		return errors.New("the diagnostics CA ConfigMap is read from the webhook's namespace: it needs one (--namespace or $POD_NAMESPACE)")
	}
	reader := &DiagnosticsCAReader{
		Reader: mgr.GetAPIReader(), Namespace: opts.Namespace, Name: opts.DiagnosticsCAConfigMap,
		Interval: opts.DiagnosticsCAInterval, Provider: provider, Log: log.WithName("diagnostics-ca"),
	}
	if err := mgr.Add(reader); err != nil {
		return fmt.Errorf("add the diagnostics CA reader: %w", err)
	}
	return nil
}
