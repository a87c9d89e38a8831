package localcluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// webhookReadyTimeout bounds the wait for the webhook's /readyz.
const webhookReadyTimeout = 60 * time.Second

// Webhook is bin/webhook running as a local process with the release's
// serving certificate and injection config, where the release's webhook
// configuration calls it.
type Webhook struct {
	*Process
	// Port is the HTTPS port (the release's WebhookPort).
	Port int
	// CertDir holds tls.crt and tls.key, watched by the webhook.
	CertDir string
	// ConfigPath is the injection config file, watched by the webhook.
	ConfigPath string
	// MetricsURL is the webhook's Prometheus endpoint.
	MetricsURL string
	// ReadyURL is the webhook's /readyz.
	ReadyURL string
}

// StartWebhook writes the release's serving certificate and config.yaml to
// files, starts binary (bin/webhook or a fresh build) with the admin
// kubeconfig and waits until it is ready.
func (c *Cluster) StartWebhook(ctx context.Context, rel *Release, binary string) (*Webhook, error) {
	cert, key, _, err := rel.ServingTLS(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := rel.InjectionConfig(ctx)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(c.opts.WorkDir, "webhook-"+rel.Name)
	w := &Webhook{Port: rel.WebhookPort, CertDir: filepath.Join(dir, "tls"), ConfigPath: filepath.Join(dir, "config.yaml")}
	if err := os.MkdirAll(w.CertDir, 0o700); err != nil {
		return nil, fmt.Errorf("create webhook cert dir: %w", err)
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{filepath.Join(w.CertDir, "tls.crt"), cert}, {filepath.Join(w.CertDir, "tls.key"), key}, {w.ConfigPath, cfg}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	ports, err := FreePorts(2)
	if err != nil {
		return nil, err
	}
	metricsAddr, healthAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	w.MetricsURL, w.ReadyURL = "http://"+metricsAddr+"/metrics", "http://"+healthAddr+"/readyz"
	w.Process, err = StartProcess(ProcessOptions{
		Name: "webhook-" + rel.Name,
		Path: binary,
		Args: []string{
			"--config=" + w.ConfigPath,
			"--cert-dir=" + w.CertDir,
			"--port=" + strconv.Itoa(w.Port),
			"--metrics-address=" + metricsAddr,
			"--health-address=" + healthAddr,
			"--namespace=" + rel.Namespace,
			"--log-level=info",
		},
		Env:    []string{"KUBECONFIG=" + c.kubeconfig},
		LogDir: c.opts.WorkDir,
	})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := w.WaitReady(ctx, w.ReadyURL, webhookReadyTimeout); err != nil {
		return nil, errors.Join(err, w.Stop())
	}
	c.opts.Logf("webhook ready on https://127.0.0.1:%d/inject in %s (log %s)", w.Port, time.Since(start).Round(100*time.Millisecond), w.LogPath())
	return w, nil
}

// Restart starts the stopped webhook again and waits until it is ready.
func (w *Webhook) Restart(ctx context.Context) error {
	if err := w.Start(); err != nil {
		return err
	}
	return w.WaitReady(ctx, w.ReadyURL, webhookReadyTimeout)
}

// PresentedCertificate connects to the webhook port and returns the leaf
// certificate it presents, without verifying it.
func (w *Webhook) PresentedCertificate(ctx context.Context) (*x509.Certificate, error) {
	d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} //nolint:gosec // reads the certificate, sends nothing
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(w.Port)))
	if err != nil {
		return nil, fmt.Errorf("connect to the webhook: %w", err)
	}
	defer func() { _ = conn.Close() }() // only the handshake was wanted
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("the webhook presented no certificate")
	}
	return certs[0], nil
}
