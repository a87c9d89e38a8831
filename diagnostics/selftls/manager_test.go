package selftls

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/internal/testlog"
	sidecardiag "github.com/gopherscope/gopherscope/sidecar/diagnostics"
	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

const (
	testNamespace  = "gopherscope-system"
	testObjectName = "gs-diagnostics-ca"
	testAPIService = "v1alpha1.diagnostics.gopherscope.io"
	testDNSName    = "gs-diagnostics.gopherscope-system.svc"
)

// TestManagerKeepsTheCAInTheCluster runs two replicas' managers against
// the local API server, with the objects the chart creates: they agree on
// one root, publish it in the ConfigMap and the APIService, and sign
// certificates that a client trusting the APIService's caBundle and a
// sidecar trusting the ConfigMap's bundle accept. Then the clock moves
// through a root rotation: the next root is published, then signs, and
// both certificates are re-signed without a restart.
func TestManagerKeepsTheCAInTheCluster(t *testing.T) {
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster := localcluster.StartForTest(t, root)
	client := cluster.Client()
	dyn, err := dynamic.NewForConfig(cluster.Config())
	if err != nil {
		t.Fatal(err)
	}
	createChartObjects(t, client, dyn)

	var clock struct {
		sync.Mutex
		now time.Time
	}
	clock.now = time.Now()
	now := func() time.Time { clock.Lock(); defer clock.Unlock(); return clock.now }
	logs := &testlog.Lines{}
	opts := Options{
		Client: client, Dynamic: dyn, Namespace: testNamespace, SecretName: testObjectName, ConfigMapName: testObjectName,
		APIService: testAPIService, DNSNames: []string{testDNSName},
		RootValidity: 1000 * time.Hour, RootOverlap: 200 * time.Hour, CertValidity: 24 * time.Hour, Now: now, Log: logs.Logger(),
	}
	a, b := newManager(t, opts), newManager(t, opts)
	if a.Ready() {
		t.Fatal("Ready before the first sync")
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, m := range []*Manager{a, b} {
		wg.Go(func() { errs[i] = m.Sync(t.Context()) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if n := len(logs.Matching("diagnostics CA root created")); n != 1 {
		t.Errorf("%d replicas created a root; want exactly 1 (the other reads it after the conflict)\n%s", n, logs)
	}
	bundle := publishedBundle(t, client, dyn)
	if got := strings.Count(bundle, "BEGIN CERTIFICATE"); got != 1 {
		t.Fatalf("bundle has %d roots; want 1", got)
	}
	for name, m := range map[string]*Manager{"a": a, "b": b} {
		checkCertificates(t, name, m, bundle, now)
	}

	// The overlap begins: both roots published, the old one still signs.
	clock.Lock()
	clock.now = clock.now.Add(801 * time.Hour)
	clock.Unlock()
	before, _ := a.ClientCertificate()
	if err := a.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	podBundle := publishedBundle(t, client, dyn)
	if got := strings.Count(podBundle, "BEGIN CERTIFICATE"); got != 2 {
		t.Fatalf("bundle has %d roots at the start of the overlap; want 2", got)
	}
	checkCertificates(t, "a during the overlap", a, podBundle, now)

	// Half the overlap: the next root signs; a pod injected during the
	// overlap accepts the newly signed client certificate.
	clock.Lock()
	clock.now = clock.now.Add(100 * time.Hour)
	clock.Unlock()
	for _, m := range []*Manager{a, b} {
		if err := m.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	after, _ := a.ClientCertificate()
	if after.Leaf.Equal(before.Leaf) || after.Leaf.CheckSignatureFrom(before.Leaf) == nil {
		t.Error("the client certificate was not re-signed by the new root")
	}
	checkCertificates(t, "a after the handover, for a pod of the overlap", a, podBundle, now)
	checkCertificates(t, "b after the handover", b, publishedBundle(t, client, dyn), now)
	if logs.Find("next diagnostics CA root published") == "" || logs.Find("the next root signs now") == "" {
		t.Errorf("the rotation's steps are not logged:\n%s", logs)
	}
}

// TestManagerSaysWhatIsMissing: without the Secret the chart creates, Sync
// fails naming it, and the manager stays not ready.
func TestManagerSaysWhatIsMissing(t *testing.T) {
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster := localcluster.StartForTest(t, root)
	dyn, err := dynamic.NewForConfig(cluster.Config())
	if err != nil {
		t.Fatal(err)
	}
	m := newManager(t, Options{
		Client: cluster.Client(), Dynamic: dyn, Namespace: "default", SecretName: "absent", ConfigMapName: "absent",
		APIService: testAPIService, DNSNames: []string{testDNSName},
		RootValidity: 1000 * time.Hour, RootOverlap: 200 * time.Hour, CertValidity: 24 * time.Hour, Log: (&testlog.Lines{}).Logger(),
	})
	err = m.Sync(t.Context())
	if err == nil || !strings.Contains(err.Error(), "default/absent") || !strings.Contains(err.Error(), "the chart creates it") {
		t.Errorf("Sync() = %v; want an error naming the missing Secret", err)
	}
	if _, err := m.ServingCertificate(nil); err == nil || m.Ready() {
		t.Error("a manager that never synced serves a certificate")
	}
}

func TestOptionsValidate(t *testing.T) {
	err := Options{RootValidity: time.Hour, RootOverlap: 2 * time.Hour, CertValidity: time.Hour}.Validate()
	for _, want := range []string{"namespace", "Secret", "ConfigMap", "APIService", "DNS name", "not longer than the root overlap"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; want it to mention %q", err, want)
		}
	}
	err = Options{RootValidity: 10 * time.Hour, RootOverlap: time.Hour, CertValidity: time.Hour}.Validate()
	if err == nil || !strings.Contains(err.Error(), "shorter than twice the certificate validity") {
		t.Errorf("Validate() = %v; want the overlap checked against the certificate validity", err)
	}
}

func newManager(t *testing.T, opts Options) *Manager {
	t.Helper()
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// createChartObjects creates what the chart does: the namespace, the empty
// Secret and ConfigMap, and the APIService without a caBundle.
func createChartObjects(t *testing.T, client kubernetes.Interface, dyn dynamic.Interface) {
	t.Helper()
	ctx := t.Context()
	meta := metav1.ObjectMeta{Name: testObjectName, Namespace: testNamespace}
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNamespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Secrets(testNamespace).Create(ctx, &corev1.Secret{ObjectMeta: meta}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ConfigMaps(testNamespace).Create(ctx, &corev1.ConfigMap{ObjectMeta: meta}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": testAPIService},
		"spec": map[string]any{
			"group": "diagnostics.gopherscope.io", "version": "v1alpha1", "groupPriorityMinimum": int64(100), "versionPriority": int64(100),
			"service": map[string]any{"name": "gs-diagnostics", "namespace": testNamespace, "port": int64(443)},
		},
	}}
	if _, err := dyn.Resource(apiServices).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// publishedBundle reads the ConfigMap's bundle and checks the APIService's
// caBundle is the same.
func publishedBundle(t *testing.T, client kubernetes.Interface, dyn dynamic.Interface) string {
	t.Helper()
	cm, err := client.CoreV1().ConfigMaps(testNamespace).Get(t.Context(), testObjectName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dyn.Resource(apiServices).Get(t.Context(), testAPIService, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	caBundle, _, _ := unstructured.NestedString(svc.Object, "spec", "caBundle")
	if pemBundle, err := base64.StdEncoding.DecodeString(caBundle); err != nil || string(pemBundle) != cm.Data[config.DiagnosticsCAKey] {
		t.Errorf("the APIService's caBundle is not the ConfigMap's bundle (%v)", err)
	}
	return cm.Data[config.DiagnosticsCAKey]
}

// checkCertificates does the two handshakes the certificates are for: the
// API server dialling the server (trusting the APIService's caBundle) and
// the server dialling a sidecar (which trusts the pod's bundle and checks
// the client's name).
func checkCertificates(t *testing.T, name string, m *Manager, bundle string, now func() time.Time) {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(bundle)) {
		t.Fatalf("%s: no certificates in the bundle", name)
	}
	serverConf := &tls.Config{GetCertificate: m.ServingCertificate, MinVersion: tls.VersionTLS12, Time: now}
	if err := handshake(serverConf, &tls.Config{RootCAs: roots, ServerName: testDNSName, MinVersion: tls.VersionTLS12, Time: now}); err != nil {
		t.Errorf("%s: the API server's handshake with the serving certificate: %v", name, err)
	}
	sidecarConf, err := sidecardiag.TLSConfig(sidecardiag.Options{ListenAddress: "127.0.0.1:0", ClientCAs: []byte(bundle)}.WithDefaults())
	if err != nil {
		t.Fatal(err)
	}
	sidecarConf.Time = now // the handshakes happen at the test's clock
	clientConf := &tls.Config{
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return m.ClientCertificate() },
		InsecureSkipVerify:   true, // the sidecar's certificate is self-signed; its side is checked here
		MinVersion:           tls.VersionTLS12,
		Time:                 now,
	}
	if err := handshake(sidecarConf, clientConf); err != nil {
		t.Errorf("%s: a sidecar refused the client certificate: %v", name, err)
	}
}

// handshake runs a TLS handshake between two configurations over a
// loopback connection and returns the server side's error, or the
// client's.
func handshake(server, client *tls.Config) error {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		return err
	}
	defer func() { _ = ln.Close() }()
	errc := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		defer func() { _ = conn.Close() }()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		err = conn.(*tls.Conn).Handshake()
		if err == nil {
			_, err = conn.Write([]byte{0})
		}
		errc <- err
	}()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), client)
	if err == nil {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		// TLS 1.3 sends the client's certificate after the client's
		// handshake returns: the server's byte (or its alert) says
		// whether it was accepted.
		_, err = conn.Read(make([]byte, 1))
		_ = conn.Close()
	}
	if serr := <-errc; serr != nil {
		return serr
	}
	return err
}
