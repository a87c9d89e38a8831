package webhook

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

func TestParseConfigurationRef(t *testing.T) {
	for in, want := range map[string]ConfigurationRef{
		"mutating/gs":     {Name: "gs"},
		"validating/gs-v": {Validating: true, Name: "gs-v"},
	} {
		got, err := ParseConfigurationRef(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseConfigurationRef(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "gs", "mutating/", "crd/gs"} {
		if _, err := ParseConfigurationRef(in); err == nil {
			t.Errorf("ParseConfigurationRef(%q) accepted it", in)
		}
	}
}

func TestSelfTLSValidateReportsEveryProblem(t *testing.T) {
	err := (&SelfTLS{CAValidity: time.Hour, Validity: time.Minute, RenewBefore: time.Hour, CheckInterval: 2 * time.Hour}).Validate()
	want := []string{
		"the Secret's name is empty",
		"the serving certificate has no DNS name",
		"no webhook configuration to keep the caBundle of",
		"renew-before 1h0m0s must be longer than the check interval 2h0m0s",
		"CA validity 1h0m0s must be longer than renew-before 1h0m0s",
		"validity 1m0s must be longer than renew-before 1h0m0s",
	}
	got := strings.Split(fmt.Sprint(err), "\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestScopedConfigSelectsTheNamedObjectsInListsAndWatches(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+"?"+r.URL.Query().Get("fieldSelector"))
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	defer server.Close()
	cfg := scopedConfig(&rest.Config{Host: server.URL}, "gs", &SelfTLS{
		SecretName: "gs-tls",
		Webhooks:   []ConfigurationRef{{Name: "gs-m"}, {Validating: true, Name: "gs-v"}},
	})
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/namespaces/gs/secrets?watch=true"},
		{http.MethodGet, "/api/v1/namespaces/other/secrets"},
		{http.MethodGet, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?limit=500"},
		{http.MethodGet, "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"},
		{http.MethodPut, "/api/v1/namespaces/gs/secrets/gs-tls"},
		{http.MethodGet, "/api/v1/namespaces/gs/configmaps"},
	} {
		r, err := http.NewRequestWithContext(t.Context(), req.method, server.URL+req.path, http.NoBody)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	want := []string{
		"GET /api/v1/namespaces/gs/secrets?metadata.name=gs-tls",
		"GET /api/v1/namespaces/other/secrets?",
		"GET /apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?metadata.name=gs-m",
		"GET /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations?metadata.name=gs-v",
		"PUT /api/v1/namespaces/gs/secrets/gs-tls?",
		"GET /api/v1/namespaces/gs/configmaps?",
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("requests as the API server sees them (-want +got):\n%s", diff)
	}
}

func TestWaitingCertsServesTheFilesOnceTheyAppear(t *testing.T) {
	dir := t.TempDir()
	certs := &waitingCerts{certFile: filepath.Join(dir, CertFile), keyFile: filepath.Join(dir, KeyFile), poll: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- certs.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start: %v", err)
		}
	}()
	if cert, err := certs.GetCertificate(nil); err == nil || cert != nil {
		t.Fatalf("GetCertificate before the files exist = %v, %v; want an error", cert, err)
	}
	want := newServingCert(t, 7)
	want.install(t, dir)
	eventually(t, "the certificate", 10*time.Second, func() error {
		cert, err := certs.GetCertificate(nil)
		if err != nil {
			return err
		}
		if !bytes.Equal(cert.Certificate[0], want.cert.Raw) {
			return errors.New("another certificate")
		}
		return nil
	})
}

// selfTLSRules are the permissions the chart grants the webhook in
// self-managed mode (and the namespace reads Run needs): the Secret and the
// webhook configuration by name only.
func selfTLSRules(secret, mwc string) (cluster, namespaced []rbacv1.PolicyRule) {
	return []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch"}},
			{APIGroups: []string{""}, Resources: []string{"limitranges", "nodes"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"mutatingwebhookconfigurations"}, ResourceNames: []string{mwc}, Verbs: []string{"list", "watch", "update"}},
		}, []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{secret}, Verbs: []string{"list", "watch", "update"}},
		}
}

func TestSelfTLSFillsTheSecretKeepsTheCABundleAndRotates(t *testing.T) {
	env := startControlPlane(t)
	admin := kubernetes.NewForConfigOrDie(env.Config)
	const ns, secretName, mwcName, sa = "gopherscope", "gs-tls", "gs", "gs-webhook"
	dnsName := "gs." + ns + ".svc"
	if _, err := admin.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// As the chart renders them: the Secret without data, no caBundle.
	if _, err := admin.CoreV1().Secrets(ns).Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretName}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	none, path := admissionregistrationv1.SideEffectClassNone, Path
	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: mwcName},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "pod.inject.gopherscope.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: ns, Name: "gs", Path: &path}},
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			ObjectSelector:          &metav1.LabelSelector{MatchLabels: map[string]string{"never": "matches"}},
		}},
	}
	if _, err := admin.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(t.Context(), mwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clusterRules, nsRules := selfTLSRules(secretName, mwcName)
	grant(t, admin, ns, sa, clusterRules, nsRules)

	certDir := t.TempDir()
	asSA := rest.CopyConfig(env.Config)
	asSA.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + sa}
	ports := freePorts(t, 3)
	ctx, cancel := context.WithCancel(logf.IntoContext(t.Context(), testr.New(t)))
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			RestConfig: asSA, Version: testVersion, Namespace: ns, Host: "127.0.0.1", Port: ports[0], CertDir: certDir,
			MetricsAddress: "0", HealthAddress: fmt.Sprintf("127.0.0.1:%d", ports[2]), Registry: prometheus.NewRegistry(),
			SelfTLS: &SelfTLS{
				SecretName: secretName, DNSNames: []string{dnsName, "gs." + ns + ".svc.cluster.local"},
				Webhooks: []ConfigurationRef{{Name: mwcName}},
				// The serving certificate is renewed a second after it is issued.
				CAValidity: time.Hour, Validity: 4 * time.Second, RenewBefore: 3 * time.Second, CheckInterval: 500 * time.Millisecond,
			},
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	secret := func() map[string][]byte {
		s, err := admin.CoreV1().Secrets(ns).Get(t.Context(), secretName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s.Data
	}
	caBundles := func() []string {
		got, err := admin.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), mwcName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, w := range got.Webhooks {
			out = append(out, string(w.ClientConfig.CABundle))
		}
		return out
	}
	var ca, serving []byte
	eventually(t, "the Secret filled and the caBundle set to its CA", time.Minute, func() error {
		data := secret()
		ca, serving = data["ca.crt"], data[CertFile]
		if len(ca) == 0 || len(data["ca.key"]) == 0 || len(serving) == 0 || len(data[KeyFile]) == 0 {
			return fmt.Errorf("secret keys %v", keys(data))
		}
		if got := caBundles(); !cmp.Equal([]string{string(ca)}, got) {
			return errors.New("caBundle is not the Secret's ca.crt")
		}
		return nil
	})
	verifyServing(t, ca, serving, dnsName)

	t.Run("the server serves the Secret's certificate once the kubelet has written it", func(t *testing.T) {
		if err := httpGetOK(fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[2])); err == nil {
			t.Error("ready before the Secret's files exist")
		}
		data := secret()
		for name, b := range map[string][]byte{CertFile: data[CertFile], KeyFile: data[KeyFile]} {
			if err := os.WriteFile(filepath.Join(certDir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "readiness", 30*time.Second, func() error { return httpGetOK(fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[2])) })
		cert, _, err := presentedCert(fmt.Sprintf("127.0.0.1:%d", ports[0]), nil)
		if err != nil {
			t.Fatal(err)
		}
		verifyServing(t, ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), dnsName)
	})

	t.Run("the serving certificate is renewed before it expires, by the same CA", func(t *testing.T) {
		eventually(t, "a new serving certificate", 30*time.Second, func() error {
			if bytes.Equal(secret()[CertFile], serving) {
				return errors.New("the same certificate")
			}
			return nil
		})
		data := secret()
		if !bytes.Equal(data["ca.crt"], ca) {
			t.Error("renewing the serving certificate replaced the CA")
		}
		verifyServing(t, ca, data[CertFile], dnsName)
		if got := caBundles(); !cmp.Equal([]string{string(ca)}, got) {
			t.Error("the caBundle changed")
		}
	})

	t.Run("a caBundle changed by someone else is put back", func(t *testing.T) {
		got, err := admin.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), mwcName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got.Webhooks[0].ClientConfig.CABundle = newServingCert(t, 9).certPEM
		if _, err := admin.AdmissionregistrationV1().MutatingWebhookConfigurations().Update(t.Context(), got, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the caBundle back", 30*time.Second, func() error {
			if !cmp.Equal([]string{string(ca)}, caBundles()) {
				return errors.New("not the CA")
			}
			return nil
		})
	})

	t.Run("a Secret emptied by someone else gets a new CA, and the caBundle follows", func(t *testing.T) {
		s, err := admin.CoreV1().Secrets(ns).Get(t.Context(), secretName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Data = nil
		if _, err := admin.CoreV1().Secrets(ns).Update(t.Context(), s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a new CA in the Secret and the caBundle", 30*time.Second, func() error {
			data := secret()
			if len(data["ca.crt"]) == 0 || bytes.Equal(data["ca.crt"], ca) {
				return errors.New("no new CA yet")
			}
			if !cmp.Equal([]string{string(data["ca.crt"])}, caBundles()) {
				return errors.New("the caBundle is not the new CA")
			}
			verifyServing(t, data["ca.crt"], data[CertFile], dnsName)
			return nil
		})
	})
}

// grant binds the rules to the ServiceAccount: cluster rules with a
// ClusterRole, namespaced ones with a Role in ns.
func grant(t *testing.T, c kubernetes.Interface, ns, sa string, cluster, namespaced []rbacv1.PolicyRule) {
	t.Helper()
	subjects := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}}
	ctx := t.Context()
	_, err1 := c.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: sa}, Rules: cluster}, metav1.CreateOptions{})
	_, err2 := c.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa}, Subjects: subjects,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: sa}}, metav1.CreateOptions{})
	_, err3 := c.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: sa}, Rules: namespaced}, metav1.CreateOptions{})
	_, err4 := c.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: sa}, Subjects: subjects,
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa}}, metav1.CreateOptions{})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
}

// verifyServing checks that certPEM is a serving certificate for dnsName
// signed by caPEM.
func verifyServing(t *testing.T, caPEM, certPEM []byte, dnsName string) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA certificate in ca.crt")
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatal("no PEM serving certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: dnsName, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("the serving certificate does not verify for %s against the CA: %v", dnsName, err)
	}
}

func keys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
