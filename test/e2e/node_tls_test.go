//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/gopherscope/gopherscope/test/localcluster"
)

// selfRelease is a second release of the chart on the shared node, in
// tls.mode=self with two replicas. Its webhook configurations select the same
// opted-in namespaces as the shared release's: a pod goes through both (the
// second sees it injected and skips it), so the test proves that the API
// server reached this release's webhook by its metrics, not by the pod.
type selfRelease struct {
	*nodeEnv
	release *localcluster.Release
	// fullname prefixes its objects; dnsName is its Service's name.
	fullname, dnsName string
}

const (
	selfReleaseName = "gs-self"
	// webhookPort and webhookMetricsPort are the chart's defaults.
	webhookPort, webhookMetricsPort = 9443, 8080
)

func TestNodeSelfManagedTLSWithTwoReplicasRotatesKeepsTheCABundleAndSurvivesAWebhookRestart(t *testing.T) {
	e := realNode(t)
	values := chartValuesFor(e.images)
	values["replicaCount"] = 2
	values["auditor"] = map[string]any{"enabled": false} // the shared release's auditor is enough
	// The diagnostics API is cluster-wide: the shared release serves it.
	values["diagnostics"] = map[string]any{"enabled": false}
	// A serving certificate renewed a minute after it is issued, valid three more.
	values["tls"] = map[string]any{"mode": "self", "self": map[string]any{"validity": "4m", "renewBefore": "3m", "checkInterval": "10s"}}
	full := selfReleaseName + "-gopherscope"
	s := &selfRelease{nodeEnv: e, fullname: full, dnsName: full + "." + selfReleaseName + ".svc"}
	cas := s.watchCAs(t) // from before the install, when both replicas start at once
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	rel, err := e.cluster.InstallChart(ctx, localcluster.ReleaseOptions{Name: selfReleaseName, Namespace: selfReleaseName, Values: values})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if rel != nil {
			if err := rel.Uninstall(ctx); err != nil {
				t.Errorf("uninstall %s: %v", selfReleaseName, err)
			}
		}
		if err := e.client.CoreV1().Namespaces().Delete(ctx, selfReleaseName, metav1.DeleteOptions{}); err != nil {
			t.Errorf("delete namespace %s: %v", selfReleaseName, err)
		}
	})
	if err != nil {
		t.Fatalf("install a second release in tls.mode=self: %v", err)
	}
	s.release = rel
	ns := e.namespace(t, "node-self-tls", injectEnabled)

	// helm --wait returned: both pods are ready, so the rotator has filled the
	// Secret, the kubelet has mounted it and the caBundle is its CA.
	ca := s.secret(t)["ca.crt"]
	s.waitCABundles(t, ca)
	s.waitServing(t, "both replicas serve a certificate of the Secret's CA", ca, time.Time{})
	s.assertReached(t, ns)

	t.Run("the serving certificate is renewed by the same CA and both pods serve the new one", func(t *testing.T) {
		first := parseCert(t, s.secret(t)["tls.crt"])
		var renewed *x509.Certificate
		s.poll(t, "a renewed serving certificate in the Secret", 2*time.Minute, func() error {
			data := s.secret(t)
			if renewed = parseCert(t, data["tls.crt"]); !renewed.NotAfter.After(first.NotAfter) {
				return errors.New("not renewed yet")
			}
			if !bytes.Equal(data["ca.crt"], ca) {
				t.Fatal("renewing the serving certificate replaced the CA")
			}
			return nil
		})
		s.waitServing(t, "both replicas serve the renewed certificate (the kubelet refreshes the mounted Secret)", ca, renewed.NotAfter)
		s.waitCABundles(t, ca)
		s.assertReached(t, ns)
	})

	t.Run("a caBundle changed by someone else is put back", func(t *testing.T) {
		mwc, err := e.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), full, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range mwc.Webhooks {
			mwc.Webhooks[i].ClientConfig.CABundle = []byte("not a CA")
		}
		if _, err := e.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Update(t.Context(), mwc, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		s.waitCABundles(t, ca)
		s.assertReached(t, ns)
	})

	t.Run("a deleted webhook pod is replaced, serves the same CA's certificate, and the Secret keeps its CA", func(t *testing.T) {
		pods := s.webhookPods(t)
		if err := e.client.CoreV1().Pods(selfReleaseName).Delete(t.Context(), pods[0].Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		s.poll(t, "two ready webhook pods, one of them new", 3*time.Minute, func() error {
			now := s.webhookPods(t)
			if len(now) != 2 || slices.ContainsFunc(now, func(p corev1.Pod) bool { return p.Name == pods[0].Name }) {
				return fmt.Errorf("%d ready webhook pods", len(now))
			}
			return nil
		})
		if got := s.secret(t)["ca.crt"]; !bytes.Equal(got, ca) {
			t.Error("the new pod replaced the CA")
		}
		s.waitServing(t, "both replicas serve a certificate of the same CA", ca, time.Time{})
		s.assertReached(t, ns)
	})

	t.Run("a Secret emptied by someone else gets a new CA, the caBundle follows and both pods serve it", func(t *testing.T) {
		secret, err := e.client.CoreV1().Secrets(selfReleaseName).Get(t.Context(), full+"-self-tls", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		secret.Data = nil
		if _, err := e.client.CoreV1().Secrets(selfReleaseName).Update(t.Context(), secret, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		var newCA []byte
		s.poll(t, "a new CA in the Secret", time.Minute, func() error {
			if newCA = s.secret(t)["ca.crt"]; len(newCA) == 0 || bytes.Equal(newCA, ca) {
				return errors.New("no new CA yet")
			}
			return nil
		})
		s.waitCABundles(t, newCA)
		s.waitServing(t, "both replicas serve a certificate of the new CA", newCA, time.Time{})
		s.assertReached(t, ns)
		ca = newCA
	})

	t.Run("one writer at a time: the Secret held exactly the two CAs, never a third from a racing replica", func(t *testing.T) {
		if got := cas(); len(got) != 2 {
			t.Errorf("the Secret held %d distinct CAs, want 2 (the first, then the one made after it was emptied)", len(got))
		}
	})
}

// secret is the data of the release's self-managed Secret.
func (s *selfRelease) secret(t *testing.T) map[string][]byte {
	t.Helper()
	got, err := s.client.CoreV1().Secrets(selfReleaseName).Get(t.Context(), s.fullname+"-self-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got.Data
}

// watchCAs records every non-empty ca.crt the Secret holds from now on;
// the returned function lists the distinct ones seen.
func (s *selfRelease) watchCAs(t *testing.T) func() [][]byte {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var mu sync.Mutex
	var seen [][]byte
	note := func(obj any) {
		secret, ok := obj.(*corev1.Secret)
		if !ok || len(secret.Data["ca.crt"]) == 0 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !slices.ContainsFunc(seen, func(b []byte) bool { return bytes.Equal(b, secret.Data["ca.crt"]) }) {
			seen = append(seen, secret.Data["ca.crt"])
		}
	}
	w, err := s.client.CoreV1().Secrets(selfReleaseName).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", s.fullname+"-self-tls").String()})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev := range w.ResultChan() {
			note(ev.Object)
		}
	}()
	return func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// waitCABundles waits until every webhook of the release's mutating and
// validating configurations has ca as its caBundle.
func (s *selfRelease) waitCABundles(t *testing.T, ca []byte) {
	t.Helper()
	s.poll(t, "every caBundle equal to the Secret's CA", time.Minute, func() error {
		var bundles [][]byte
		mwc, err := s.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), s.fullname, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, w := range mwc.Webhooks {
			bundles = append(bundles, w.ClientConfig.CABundle)
		}
		vwc, err := s.client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(t.Context(), s.fullname, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, w := range vwc.Webhooks {
			bundles = append(bundles, w.ClientConfig.CABundle)
		}
		for _, b := range bundles {
			if !bytes.Equal(b, ca) {
				return fmt.Errorf("a caBundle of %d bytes is not the CA", len(b))
			}
		}
		return nil
	})
}

// webhookPods are the release's ready webhook pods.
func (s *selfRelease) webhookPods(t *testing.T) []corev1.Pod {
	t.Helper()
	list, err := s.client.CoreV1().Pods(selfReleaseName).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + selfReleaseName})
	if err != nil {
		t.Fatal(err)
	}
	var ready []corev1.Pod
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp == nil && localcluster.PodReady(&list.Items[i]) {
			ready = append(ready, list.Items[i])
		}
	}
	return ready
}

// waitServing waits until both webhook pods present, for the Service's
// name, a certificate that ca signed and that expires after notAfter.
func (s *selfRelease) waitServing(t *testing.T, what string, ca []byte, notAfter time.Time) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		t.Fatal("no CA certificate")
	}
	s.poll(t, what, 4*time.Minute, func() error {
		pods := s.webhookPods(t)
		if len(pods) != 2 {
			return fmt.Errorf("%d ready webhook pods", len(pods))
		}
		for _, p := range pods {
			dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{RootCAs: roots, ServerName: s.dnsName, MinVersion: tls.VersionTLS12}}
			conn, err := dialer.DialContext(t.Context(), "tcp", net.JoinHostPort(p.Status.PodIP, strconv.Itoa(webhookPort)))
			if err != nil {
				return fmt.Errorf("pod %s: %w", p.Name, err)
			}
			cert := conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
			_ = conn.Close()
			if !cert.NotAfter.After(notAfter) && !cert.NotAfter.Equal(notAfter) {
				return fmt.Errorf("pod %s serves a certificate expiring %s, before %s", p.Name, cert.NotAfter, notAfter)
			}
		}
		return nil
	})
}

// assertReached creates a pod in ns (a dry run: admission runs, nothing is
// stored) and checks that it was injected and that the release's webhook
// was called for it, so the API server trusts the caBundle it keeps.
func (s *selfRelease) assertReached(t *testing.T, ns string) {
	t.Helper()
	before := s.injections(t)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "dry-", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{s.demoContainer()}},
	}
	s.poll(t, "an admission request to the self-managed release's webhook", time.Minute, func() error {
		got, err := s.client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return err
		}
		if sidecarOf(got) == nil {
			return errors.New("the pod was not injected")
		}
		if after := s.injections(t); after <= before {
			return fmt.Errorf("gopherscope_injections_total of the release's webhooks is still %v", after)
		}
		return nil
	})
}

// injections sums gopherscope_injections_total over the release's webhook pods.
func (s *selfRelease) injections(t *testing.T) float64 {
	t.Helper()
	total := 0.0
	for _, p := range s.webhookPods(t) {
		samples, err := localcluster.Scrape(t.Context(), localcluster.PodURL(&p, webhookMetricsPort, "/metrics"))
		if err != nil {
			continue // a pod going away; the next poll counts again
		}
		total += samples.Sum("gopherscope_injections_total")
	}
	return total
}

// poll checks every second until check passes or timeout.
func (s *selfRelease) poll(t *testing.T, what string, timeout time.Duration, check func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, timeout, true, func(context.Context) (bool, error) {
		last = check()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: not after %s: %v\n%s", what, timeout, last, s.cluster.LogTail("kubelet", 10))
	}
}

// parseCert decodes a PEM certificate.
func parseCert(t *testing.T, pemBytes []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatal("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
