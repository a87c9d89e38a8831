package rig

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/internal/testpki"
	"github.com/gopherscope/gopherscope/test/localcluster"
	"github.com/gopherscope/gopherscope/webhook"
)

// The namespaces the rig creates, and the webhook's own.
const (
	// NamespaceInject is opted in: its pods are injected.
	NamespaceInject = "bench-inject"
	// NamespaceFloor is opted out (inject=disabled): its pods take the
	// same TLS, HTTP, decoding and namespace lookup path and are admitted
	// unchanged, the floor injection is measured against.
	NamespaceFloor = "bench-floor"
	// NamespacePlain has no inject label, as most namespaces of a cluster:
	// the API server does not call the webhook for its pods (once the chart
	// is installed, see Register), the floor pod creation is measured
	// against.
	NamespacePlain = "bench-plain"
	// webhookNamespace is the webhook's own namespace (--namespace).
	webhookNamespace = "gopherscope-bench"
	// webhookReadyTimeout bounds the wait for the webhook's /readyz.
	webhookReadyTimeout = 60 * time.Second
)

// WebhookOptions say where the repository and a scratch directory are.
type WebhookOptions struct {
	// RepoRoot holds bin/ (webhook, kube-apiserver, etcd).
	RepoRoot string
	// WorkDir receives the kubeconfig, certificates, config and logs.
	WorkDir string
	// Config is the initial injection config file; nil writes
	// ConfigWithInterval(config.DefaultInterval).
	Config []byte
	// Env is added to the webhook's environment (KUBECONFIG is set), e.g.
	// GOGC=200 to see what a setting changes.
	Env []string
	// Logf reports progress.
	Logf func(format string, args ...any)
}

// Webhook is bin/webhook serving on 127.0.0.1 against the local control
// plane, with certificate and config files the rig can rewrite.
type Webhook struct {
	*Process
	cluster *localcluster.Cluster
	// CA signs the serving certificates; its pool is the clients' trust.
	CA *testpki.CA
	// URL is the webhook endpoint; MetricsURL its /metrics.
	URL, MetricsURL string
	// CertDir and ConfigPath are the files the webhook watches.
	CertDir, ConfigPath string
}

// StartWebhook starts the control plane, creates the namespaces, issues
// the first serving certificate and starts bin/webhook, ready.
func StartWebhook(ctx context.Context, opts WebhookOptions) (_ *Webhook, err error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	cluster, err := localcluster.Start(ctx, localcluster.Options{RepoRoot: opts.RepoRoot, WorkDir: opts.WorkDir, Logf: opts.Logf})
	if err != nil {
		return nil, err
	}
	w := &Webhook{cluster: cluster, CertDir: filepath.Join(opts.WorkDir, "webhook-tls"), ConfigPath: filepath.Join(opts.WorkDir, "webhook-config", "config.yaml")}
	defer func() {
		if err != nil {
			err = errors.Join(err, w.Stop())
		}
	}()
	for name, value := range map[string]string{NamespaceInject: config.InjectEnabled, NamespaceFloor: config.InjectDisabled, NamespacePlain: "", webhookNamespace: ""} {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
		if value != "" {
			ns.Labels[config.KeyInject] = value
		}
		if _, err := cluster.Client().CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	if w.CA, err = testpki.NewCA(); err != nil {
		return nil, err
	}
	for _, dir := range []string{w.CertDir, filepath.Dir(w.ConfigPath)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	if _, err := w.RotateCertificate(); err != nil {
		return nil, err
	}
	cfg := opts.Config
	if cfg == nil {
		cfg = ConfigWithInterval(config.DefaultInterval)
	}
	if err := w.WriteConfig(cfg); err != nil {
		return nil, err
	}
	ports, err := localcluster.FreePorts(3)
	if err != nil {
		return nil, err
	}
	w.URL = "https://" + loopback(ports[0]) + webhook.Path
	w.MetricsURL = "http://" + loopback(ports[1]) + "/metrics"
	w.Process, err = StartProcess("webhook", filepath.Join(opts.RepoRoot, "bin", "webhook"), []string{
		"--config=" + w.ConfigPath,
		"--cert-dir=" + w.CertDir,
		"--port=" + strconv.Itoa(ports[0]),
		"--metrics-address=" + loopback(ports[1]),
		"--health-address=" + loopback(ports[2]),
		"--namespace=" + webhookNamespace,
		"--log-level=info",
	}, append([]string{"KUBECONFIG=" + cluster.Kubeconfig()}, opts.Env...), opts.WorkDir)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := w.WaitReady(ctx, "http://"+loopback(ports[2])+"/readyz", webhookReadyTimeout); err != nil {
		return nil, err
	}
	opts.Logf("webhook ready at %s in %s (pid %d, log %s)", w.URL, time.Since(start).Round(100*time.Millisecond), w.Pid(), w.LogPath())
	return w, nil
}

// Target is the webhook as the load generator sees it, trusting the CA.
func (w *Webhook) Target() loadgen.Target {
	return loadgen.Target{URL: w.URL, RootCAs: w.CA.Pool()}
}

// RotateCertificate issues a new serving certificate and writes it over
// the webhook's files.
func (w *Webhook) RotateCertificate() (*testpki.Serving, error) {
	s, err := w.CA.Issue()
	if err != nil {
		return nil, err
	}
	if err := s.WriteTo(w.CertDir); err != nil {
		return nil, err
	}
	return s, nil
}

// WriteConfig replaces the webhook's config file atomically.
func (w *Webhook) WriteConfig(data []byte) error { return testpki.ReplaceFile(w.ConfigPath, data) }

// Stop stops the webhook, then the control plane.
func (w *Webhook) Stop() error {
	var errs []error
	if w.Process != nil {
		errs = append(errs, w.Process.Stop())
	}
	if w.cluster != nil {
		errs = append(errs, w.cluster.Stop())
	}
	return errors.Join(errs...)
}

// ConfigWithInterval is an injection config file that sets the sampling
// interval and leaves everything else at its default.
func ConfigWithInterval(d time.Duration) []byte {
	return fmt.Appendf(nil, "apiVersion: %s\nkind: %s\ninterval: %s\n", config.APIVersion, config.Kind, d)
}
