//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/internal/testpki"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// Phases of the rotation, in order; every pod records the phase it was
// created in.
const (
	phaseOldCert     = "old certificate, old CA"
	phaseBothCAs     = "old certificate, caBundle old+new"
	phaseSwapping    = "certificate files swapped, waiting for the webhook"
	phaseNewCert     = "new certificate, caBundle old+new"
	phaseNewCAOnly   = "new certificate, caBundle new only"
	rotationMinPods  = 200
	rotationPodEvery = 50 * time.Millisecond
)

// creation is the outcome of one pod creation during the rotation.
type creation struct {
	phase    string
	name     string
	err      error
	injected bool
}

// TestTLSRotation rotates the webhook's serving certificate to one from a new
// CA while pods are being created continuously, the way cert-manager does it:
// the caBundle first trusts both CAs, then the certificate files are replaced
// (write and rename, as the kubelet updates a Secret volume), and once the
// webhook serves the new certificate the old CA is dropped. With
// failurePolicy Fail a TLS failure would refuse a pod rather than be hidden,
// so every creation must succeed and every pod must be injected.
func TestTLSRotation(t *testing.T) {
	e := startEnv(t, map[string]any{"webhook": map[string]any{"failurePolicy": "Fail"}})
	ns := e.namespace(t, "rotation", map[string]string{config.KeyInject: config.InjectEnabled})
	_, _, oldCA, err := e.release.ServingTLS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	newCA, err := testpki.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	newCert, err := newCA.Issue()
	if err != nil {
		t.Fatal(err)
	}

	var phase atomic.Value
	phase.Store(phaseOldCert)
	stop := make(chan struct{})
	var results []creation
	var wg sync.WaitGroup
	wg.Go(func() { results = createPodsUntil(t.Context(), e, ns, &phase, stop) })

	// step enters the next phase and stays in it for at least stay.
	step := func(next string, stay time.Duration) {
		phase.Store(next)
		t.Logf("rotation: %s", next)
		time.Sleep(stay)
	}
	rotate := func() error {
		// The API server reads webhook configurations through an informer:
		// each caBundle change gets a moment to reach it.
		const settle = 2 * time.Second
		time.Sleep(1500 * time.Millisecond)
		if err := e.release.SetCABundle(t.Context(), append(bytes.Clone(oldCA), newCA.PEM...)); err != nil {
			return err
		}
		step(phaseBothCAs, settle)
		if err := newCert.WriteTo(e.webhook.CertDir); err != nil {
			return err
		}
		step(phaseSwapping, 0)
		if err := waitForPresentedCert(t.Context(), e.webhook, newCert.CertPEM); err != nil {
			return err
		}
		// The API server keeps its connections to the webhook alive, so
		// pods created now mostly travel on connections opened before the
		// swap. A new connection must verify too: check the stored caBundle
		// against what the webhook presents, as a new connection would.
		if err := verifyWithStoredCABundle(t.Context(), e); err != nil {
			return fmt.Errorf("after the swap: %w", err)
		}
		step(phaseNewCert, settle)
		if err := e.release.SetCABundle(t.Context(), newCA.PEM); err != nil {
			return err
		}
		// A new caBundle makes the API server open new connections: the pods
		// created from here on prove the new certificate end to end.
		step(phaseNewCAOnly, settle)
		return verifyWithStoredCABundle(t.Context(), e)
	}
	rotateErr := rotate()
	close(stop)
	wg.Wait()
	if rotateErr != nil {
		t.Fatalf("rotate: %v", rotateErr)
	}

	perPhase := map[string]int{}
	var failed, uninjected int
	for _, r := range results {
		perPhase[r.phase]++
		switch {
		case r.err != nil:
			failed++
			if failed <= 5 {
				t.Errorf("creation during %q failed: %v", r.phase, r.err)
			}
		case !r.injected:
			uninjected++
			if uninjected <= 5 {
				t.Errorf("pod %s created during %q has no sidecar", r.name, r.phase)
			}
		}
	}
	t.Logf("created %d pods: %d failed, %d without sidecar; per phase %v", len(results), failed, uninjected, perPhase)
	if len(results) < rotationMinPods {
		t.Errorf("created %d pods, want at least %d", len(results), rotationMinPods)
	}
	for _, p := range []string{phaseOldCert, phaseBothCAs, phaseNewCert, phaseNewCAOnly} {
		if perPhase[p] == 0 {
			t.Errorf("no pod was created during %q; the test did not exercise it", p)
		}
	}
	samples, err := localcluster.Scrape(t.Context(), e.webhook.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	if got := samples[`gopherscope_injections_total{reason="injected",result="inject"}`]; int(got) < len(results) {
		t.Errorf("the webhook injected %v pods, want at least the %d created", got, len(results))
	}
}

// createPodsUntil creates a pod every rotationPodEvery until stop is closed
// and at least rotationMinPods were created (or ctx ends).
func createPodsUntil(ctx context.Context, e *env, ns string, phase *atomic.Value, stop <-chan struct{}) []creation {
	tick := time.NewTicker(rotationPodEvery)
	defer tick.Stop()
	var out []creation
	stopped := false
	for i := 0; !stopped || len(out) < rotationMinPods; i++ {
		select {
		case <-ctx.Done():
			return out
		case <-stop:
			stopped, stop = true, nil
		case <-tick.C:
		}
		p := phase.Load().(string)
		pod := goPod(ns, fmt.Sprintf("rot-%03d", i), nil, nil)
		stored, err := e.client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		c := creation{phase: p, name: pod.Name, err: err}
		if err == nil {
			c.injected = sidecarOf(stored) != nil && stored.Annotations[config.AnnotationStatus] != ""
		}
		out = append(out, c)
	}
	return out
}

// verifyWithStoredCABundle opens a TLS connection to the webhook that
// trusts only the caBundle of each entry of the stored webhook
// configuration and checks the name 127.0.0.1, as the API server does.
func verifyWithStoredCABundle(ctx context.Context, e *env) error {
	mwc, err := e.release.WebhookConfiguration(ctx)
	if err != nil {
		return err
	}
	for _, w := range mwc.Webhooks {
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(w.ClientConfig.CABundle) {
			return fmt.Errorf("webhook %s: the caBundle holds no certificate", w.Name)
		}
		d := tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}
		conn, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", e.webhook.Port))
		if err != nil {
			return fmt.Errorf("webhook %s: a new connection trusting its caBundle fails: %w", w.Name, err)
		}
		if err := conn.Close(); err != nil {
			return fmt.Errorf("webhook %s: close: %w", w.Name, err)
		}
	}
	return nil
}

// waitForPresentedCert waits until the webhook presents the certificate in
// certPEM on new connections.
func waitForPresentedCert(ctx context.Context, w *localcluster.Webhook, certPEM []byte) error {
	want, err := parseCertPEM(certPEM)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		got, err := w.PresentedCertificate(ctx)
		if err == nil && got.Equal(want) {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("it presents serial %v", got.SerialNumber)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the webhook does not present the new certificate after 30s: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
