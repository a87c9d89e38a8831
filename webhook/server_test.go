package webhook

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/internal/testpki"
)

// startControlPlane starts kube-apiserver and etcd from the repository's
// bin/ (built by `make controlplane`) for the rest of the test.
func startControlPlane(t *testing.T) *envtest.Environment {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join("..", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			t.Skipf("no %s in %s: run `make controlplane` first", name, bin)
		}
	}
	env := &envtest.Environment{BinaryAssetsDirectory: bin, ControlPlaneStartTimeout: 2 * time.Minute}
	if _, err := env.Start(); err != nil {
		t.Fatalf("start the control plane: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop the control plane: %v", err)
		}
	})
	return env
}

// servingCert is a self-signed certificate for 127.0.0.1 and its key, PEM.
type servingCert struct {
	certPEM, keyPEM []byte
	cert            *x509.Certificate
}

func newServingCert(t *testing.T, serial int64) servingCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: fmt.Sprintf("gopherscope-webhook-%d", serial)},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return servingCert{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		cert:    cert,
	}
}

// install writes the certificate into dir as a rotation does: each file
// written aside, then renamed over the old one.
func (c servingCert) install(t *testing.T, dir string) {
	t.Helper()
	for name, data := range map[string][]byte{KeyFile: c.keyPEM, CertFile: c.certPEM} {
		tmp := filepath.Join(dir, "."+name+".new")
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = ln.Close() }()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// eventually polls check until it returns nil or the deadline passes.
func eventually(t *testing.T, what string, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: still failing after %s: %v", what, timeout, err)
}

// presentedCert opens a new TLS connection (no session reuse) and returns
// the certificate the server presents and the negotiated protocol.
func presentedCert(addr string, nextProtos []string) (*x509.Certificate, string, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{
		InsecureSkipVerify: true, // the test compares the presented certificate itself
		NextProtos:         nextProtos,
	})
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = conn.Close() }()
	state := conn.ConnectionState()
	return state.PeerCertificates[0], state.NegotiatedProtocol, nil
}

func TestServerServesOverTLSAndFollowsRotationAndReload(t *testing.T) {
	env := startControlPlane(t)
	clientset, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{config.KeyInject: config.InjectEnabled}}}
	if _, err := clientset.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The diagnostics server's published bundle, in the webhook's namespace.
	diagnosticsCA := testpki.NewCAForTest(t)
	own := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gopherscope"}}
	if _, err := clientset.CoreV1().Namespaces().Create(t.Context(), own, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bundleMap := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: "gopherscope", Name: "gopherscope-diagnostics-ca"},
		Data:       map[string]string{config.DiagnosticsCAKey: string(diagnosticsCA.PEM)},
	}
	if _, err := clientset.CoreV1().ConfigMaps("gopherscope").Create(t.Context(), bundleMap, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	certDir, configPath := filepath.Join(dir, "tls"), filepath.Join(dir, "config.yaml")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	first := newServingCert(t, 1)
	first.install(t, certDir)
	if err := os.WriteFile(configPath, []byte("strict: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 3)
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	ctx, cancel := context.WithCancel(logf.IntoContext(t.Context(), testr.New(t)))
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			RestConfig: env.Config, ConfigPath: configPath, Version: testVersion, Namespace: "gopherscope",
			Host: "127.0.0.1", Port: ports[0], CertDir: certDir,
			MetricsAddress: fmt.Sprintf("127.0.0.1:%d", ports[1]), HealthAddress: fmt.Sprintf("127.0.0.1:%d", ports[2]),
			DiagnosticsCAConfigMap: bundleMap.Name,
		})
	}()

	eventually(t, "readiness", time.Minute, func() error {
		select {
		case err := <-done:
			t.Fatalf("Run returned early: %v", err)
		default:
		}
		return httpGetOK(fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[2]))
	})

	roots := x509.NewCertPool()
	roots.AddCert(first.cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}

	t.Run("an AdmissionReview over HTTPS gets the injection patch", func(t *testing.T) {
		resp := postReview(t, client, "https://"+addr+Path, podRequest("shop", podJSON(nil, nil)))
		if !resp.Allowed || len(resp.Patch) == 0 {
			t.Fatalf("allowed %v, patch %s; want the injection", resp.Allowed, resp.Patch)
		}
		pod, _ := applyPatch(t, podJSON(nil, nil), resp.Patch)
		if len(pod.Spec.InitContainers) != 1 || pod.Spec.InitContainers[0].Name != config.SidecarContainerName {
			t.Errorf("init containers = %+v, want the native sidecar (the API server is 1.29 or later)", pod.Spec.InitContainers)
		}
		if got := pod.Annotations[config.AnnotationStatus]; !strings.Contains(got, `"version":"`+testVersion+`"`) {
			t.Errorf("status annotation %q does not record the version", got)
		}
	})
	t.Run("the workload validator is served on its own path and answers with the pods' warnings", func(t *testing.T) {
		req := workloadRequest(t, admissionv1.Create, "shop", deploymentKind,
			workload(t, deploymentKind, podTemplate(map[string]string{config.AnnotationInterval: "abc"}, nil)), nil)
		resp := postReview(t, client, "https://"+addr+WorkloadPath, req)
		want := []string{`gopherscope.io/interval: "abc" is not a duration; using the default 10s`}
		if !resp.Allowed || len(resp.Patch) != 0 || !cmp.Equal(want, resp.Warnings) {
			t.Errorf("allowed %v, patch %s, warnings %q; want allowed, no patch, warnings %q", resp.Allowed, resp.Patch, resp.Warnings, want)
		}
	})
	t.Run("a namespace created a moment ago is found", func(t *testing.T) {
		late := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "late", Labels: map[string]string{config.KeyInject: config.InjectEnabled}}}
		if _, err := clientset.CoreV1().Namespaces().Create(t.Context(), late, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// Sent at once: the cache may not have the namespace yet, the API server has.
		if resp := postReview(t, client, "https://"+addr+Path, podRequest("late", podJSON(nil, nil))); !resp.Allowed || len(resp.Patch) == 0 {
			t.Errorf("allowed %v, patch %s, warnings %q; want the injection", resp.Allowed, resp.Patch, resp.Warnings)
		}
	})
	t.Run("HTTP/2 is not offered and TLS below 1.2 is refused", func(t *testing.T) {
		_, proto, err := presentedCert(addr, []string{"h2", "http/1.1"})
		if err != nil || proto != "http/1.1" {
			t.Errorf("negotiated %q (%v), want http/1.1", proto, err)
		}
		// MinVersion must be lowered too: Go's client refuses to offer
		// TLS 1.1 on its own, and would fail without asking the server.
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			_ = conn.Close()
			t.Errorf("a TLS 1.1 handshake succeeded")
		} else if !strings.Contains(err.Error(), "protocol version not supported") {
			t.Errorf("TLS 1.1 handshake failed with %q, want the server's protocol version alert", err)
		}
	})
	t.Run("the metric counts the injection", func(t *testing.T) {
		body := httpGetBody(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1]))
		want := `gopherscope_injections_total{reason="injected",result="inject"} 2` // shop and late
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
		if want := MetricWorkloadChecksTotal + `{result="warned"} 1`; !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
		if !strings.Contains(body, "controller_runtime_webhook_latency_seconds") {
			t.Errorf("/metrics lacks controller-runtime's webhook latency histogram")
		}
	})
	t.Run("a replaced certificate is presented on the next connection", func(t *testing.T) {
		second := newServingCert(t, 2)
		second.install(t, certDir)
		eventually(t, "the new certificate", 30*time.Second, func() error {
			cert, _, err := presentedCert(addr, nil)
			if err != nil {
				return err
			}
			if !cert.Equal(second.cert) {
				return fmt.Errorf("presented serial %s, want %s", cert.SerialNumber, second.cert.SerialNumber)
			}
			return nil
		})
	})
	t.Run("a new config file is applied without a restart", func(t *testing.T) {
		if err := os.WriteFile(configPath+".new", []byte("strict: true\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(configPath+".new", configPath); err != nil {
			t.Fatal(err)
		}
		insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		bad := podRequest("shop", podJSON(map[string]string{config.AnnotationInterval: "abc"}, nil))
		eventually(t, "strict mode", 30*time.Second, func() error {
			if resp := postReview(t, insecure, "https://"+addr+Path, bad); resp.Allowed {
				return fmt.Errorf("still allowed with warnings %q", resp.Warnings)
			}
			return nil
		})
	})

	t.Run("with sidecar.diagnosticsPort, pods get the diagnostics port with the ConfigMap's bundle", func(t *testing.T) {
		if err := os.WriteFile(configPath+".new", []byte("strict: true\nsidecar:\n  diagnosticsPort: 9185\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(configPath+".new", configPath); err != nil {
			t.Fatal(err)
		}
		raw := podJSON(nil, nil)
		eventually(t, "the diagnostics port", 30*time.Second, func() error {
			resp := postReview(t, client, "https://"+addr+Path, podRequest("shop", raw))
			if !resp.Allowed || len(resp.Patch) == 0 {
				return fmt.Errorf("allowed %v, patch %s", resp.Allowed, resp.Patch)
			}
			pod, _ := applyPatch(t, raw, resp.Patch)
			sidecar := pod.Spec.InitContainers[0]
			want := corev1.ContainerPort{Name: config.SidecarDiagnosticsPortName, ContainerPort: 9185, Protocol: corev1.ProtocolTCP}
			wantEnv := corev1.EnvVar{Name: sidecarconf.EnvDiagnosticsCA, Value: string(diagnosticsCA.PEM)}
			if !slices.Contains(sidecar.Ports, want) || !slices.Contains(sidecar.Args, "--diagnostics-listen-address=:9185") ||
				!slices.Contains(sidecar.Env, wantEnv) || len(resp.Warnings) > 0 {
				return fmt.Errorf("sidecar ports %+v, args %q, %d env entries, warnings %q: want the diagnostics port, its flag and the bundle",
					sidecar.Ports, sidecar.Args, len(sidecar.Env), resp.Warnings)
			}
			return nil
		})
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("Run did not return after its context was cancelled")
	}
}

// postReview sends a request as an AdmissionReview and returns the response.
func postReview(t *testing.T, client *http.Client, url string, req admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	t.Helper()
	resp, err := client.Post(url, "application/json", bytes.NewReader(reviewJSON(t, req)))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&review); err != nil || review.Response == nil {
		t.Fatalf("decode the review (HTTP %d): %v", resp.StatusCode, err)
	}
	return review.Response
}

func httpGetOK(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", url, resp.StatusCode, body)
	}
	return nil
}

func httpGetBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
