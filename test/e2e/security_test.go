//go:build e2e

package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// debugPaths are what net/http/pprof and expvar serve on
// http.DefaultServeMux; no port of gopherscope's binaries may answer them.
var debugPaths = []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=2", "/debug/pprof/heap", "/debug/vars"}

// TestSecurity checks the security promises of issue 6 against the real API
// server and the real binaries, sharing one control plane with the chart's
// defaults. The RBAC subtest upgrades the release, so it runs last.
func TestSecurity(t *testing.T) {
	e := startEnv(t, nil)
	t.Run("Pod Security restricted admits the chart's webhook pod and an injected pod, and refuses a non-compliant one", func(t *testing.T) {
		testPodSecurityRestricted(t, e)
	})
	t.Run("the webhook serves TLS 1.2 and 1.3 only, and HTTP/1.1 only", func(t *testing.T) {
		testWebhookProtocols(t, e)
	})
	t.Run("no port of the webhook or the sidecar serves pprof, expvar or HTTP/2 cleartext", func(t *testing.T) {
		testNoDebugEndpoints(t, e)
	})
	t.Run("the sidecar never exposes the app's command line", func(t *testing.T) {
		testSidecarHidesCmdline(t, e)
	})
	t.Run("the chart's ServiceAccount can do exactly what the RBAC table says, for every values combination", func(t *testing.T) {
		testRBACLeastPrivilege(t, e)
	})
}

func testPodSecurityRestricted(t *testing.T, e *env) {
	ns := e.namespace(t, "restricted", map[string]string{
		config.KeyInject:                             config.InjectEnabled,
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/warn":            "restricted",
	})
	warnings := &warningCollector{}
	cfg := e.cluster.Config()
	cfg.WarningHandler = warnings
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	create := func(pod *corev1.Pod) (*corev1.Pod, error) {
		return client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
	}

	t.Run("the webhook's pod as the chart renders it by default", func(t *testing.T) {
		// The e2e release runs the webhook out of cluster (webhook.url), so
		// it has no Deployment: render the default, in-cluster one.
		renderer, err := chart.NewRenderer()
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := renderer.Template(t.Context(), e.release.Name, e.release.Namespace, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := chart.Decode(manifest)
		if err != nil {
			t.Fatal(err)
		}
		deployment, err := chart.Get[*appsv1.Deployment](m, e.release.Name)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := deployment.Spec.Template
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "webhook", Labels: tmpl.Labels, Annotations: tmpl.Annotations}, Spec: tmpl.Spec}
		stored, err := create(pod)
		if err != nil {
			t.Fatalf("the restricted namespace refused the chart's webhook pod: %v", err)
		}
		if sidecarOf(stored) != nil {
			t.Error("the webhook's own pod was injected")
		}
	})
	t.Run("an injected pod whose app is restricted-compliant", func(t *testing.T) {
		stored, err := create(restrictedGoPod(ns, "restricted-app"))
		if err != nil {
			t.Fatalf("the restricted namespace refused the injected pod: %v", err)
		}
		assertInjected(t, stored, "10s")
	})
	t.Run("control: a pod whose app is not compliant is refused, for the app alone", func(t *testing.T) {
		_, err := create(goPod(ns, "plain-app", nil, nil))
		if err == nil {
			t.Fatal("the restricted namespace admitted a pod without a security context")
		}
		for _, want := range []string{`violates PodSecurity "restricted:latest"`, `container "app" must set securityContext.allowPrivilegeEscalation=false`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal %q lacks %q", err, want)
			}
		}
		if strings.Contains(err.Error(), config.SidecarContainerName) {
			t.Errorf("the refusal names the sidecar: %v", err)
		}
	})
	if got := warnings.texts(); len(got) != 0 {
		t.Errorf("warnings for the admitted pods: %q, want none", got)
	}
}

// restrictedGoPod is goPod with the security context the restricted Pod
// Security Standard asks of the app.
func restrictedGoPod(ns, name string) *corev1.Pod {
	pod := goPod(ns, name, nil, nil)
	yes, no := true, false
	pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	return pod
}

func testWebhookProtocols(t *testing.T, e *env) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(e.webhook.Port))
	dial := func(cfg *tls.Config) (tls.ConnectionState, error) {
		cfg.InsecureSkipVerify = true
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: cfg}
		conn, err := d.DialContext(t.Context(), "tcp", addr)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer func() { _ = conn.Close() }()
		return conn.(*tls.Conn).ConnectionState(), nil
	}
	// The client must allow the old versions explicitly: Go's client
	// refuses them by default, which would make the test pass by itself
	// (webhook/server_test.go's in-process TLS 1.1 check sets only
	// MaxVersion, so its client gives up before the server is asked).
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		_, err := dial(&tls.Config{MinVersion: v, MaxVersion: v})
		if err == nil || !strings.Contains(err.Error(), "remote error: tls: protocol version not supported") {
			t.Errorf("%s: handshake error = %v, want the server's protocol version alert", tls.VersionName(v), err)
		}
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		state, err := dial(&tls.Config{MinVersion: v, MaxVersion: v, NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Errorf("%s: %v, want a handshake", tls.VersionName(v), err)
			continue
		}
		if state.Version != v || state.NegotiatedProtocol != "http/1.1" {
			t.Errorf("%s offering h2: negotiated %s and %q, want http/1.1", tls.VersionName(v), tls.VersionName(state.Version), state.NegotiatedProtocol)
		}
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12},
	}}
	resp, err := client.Get("https://" + addr + "/inject")
	if err != nil {
		t.Fatalf("GET over an HTTP/2-capable client: %v", err)
	}
	_ = resp.Body.Close()
	if resp.Proto != "HTTP/1.1" {
		t.Errorf("an HTTP/2-capable client got %s, want HTTP/1.1", resp.Proto)
	}
}

// probe requests path on a local port over HTTPS or HTTP and returns the status.
func probe(ctx context.Context, port int, useTLS bool, path string) (int, error) {
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, port, path), nil)
	if err != nil {
		return 0, err
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// h2cRefused asks for HTTP/2 with prior knowledge on a plain HTTP port and
// returns nil if the server does not speak it.
func h2cRefused(ctx context.Context, port int) error {
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Protocols: &protocols}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/", port), nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil
	}
	_ = resp.Body.Close()
	return fmt.Errorf("port %d answered HTTP/2 cleartext with %s", port, resp.Proto)
}

func testNoDebugEndpoints(t *testing.T, e *env) {
	pod := runInjectedPod(t, e, "ports")
	webhookPid := pidOf(t, bins["webhook"], "--port="+strconv.Itoa(e.webhook.Port))
	metricsPort, healthPort := urlPort(t, e.webhook.MetricsURL), urlPort(t, e.webhook.ReadyURL)
	sidecarPort := pod.LocalPort(9184)
	tests := []struct {
		process string
		pid     int
		// ports are every port the process should listen on: port -> TLS.
		ports map[int]bool
	}{
		{process: "webhook", pid: webhookPid, ports: map[int]bool{e.webhook.Port: true, metricsPort: false, healthPort: false}},
		{process: "sidecar", pid: pod.sidecarPid, ports: map[int]bool{sidecarPort: false}},
	}
	for _, tt := range tests {
		var want []int
		for p := range tt.ports {
			want = append(want, p)
		}
		got := listeningPorts(t, tt.pid)
		if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b int) bool { return a < b })); diff != "" {
			t.Errorf("%s (pid %d) listens on (-want +got):\n%s", tt.process, tt.pid, diff)
		}
		for _, port := range got {
			useTLS := tt.ports[port]
			for _, path := range debugPaths {
				code, err := probe(t.Context(), port, useTLS, path)
				if err != nil || code != http.StatusNotFound {
					t.Errorf("%s port %d: GET %s = %d (%v), want 404", tt.process, port, path, code, err)
				}
			}
			if !useTLS {
				if err := h2cRefused(t.Context(), port); err != nil {
					t.Errorf("%s: %v", tt.process, err)
				}
			}
		}
	}
}

func testSidecarHidesCmdline(t *testing.T, e *env) {
	pod := runInjectedPod(t, e, "argv")
	// The demo app's own expvar publishes its command line.
	vars, err := localcluster.Get(t.Context(), fmt.Sprintf("http://127.0.0.1:%d/debug/vars", pod.LocalPort(appDebugPort)))
	if err != nil {
		t.Fatal(err)
	}
	appArgs := pod.Args["app"]
	if !strings.Contains(string(vars), `"cmdline"`) || !strings.Contains(string(vars), appArgs[0]) {
		t.Fatalf("the app's /debug/vars does not show its command line %q, so the test shows nothing", appArgs)
	}
	waitForHistory(t, pod.URL(9184, sidecarconf.SidecarHistoryPath), 2)
	for _, path := range []string{sidecarconf.SidecarMetricsPath, sidecarconf.SidecarHistoryPath, "/"} {
		body, err := localcluster.Get(t.Context(), pod.URL(9184, path))
		if err != nil {
			t.Fatal(err)
		}
		for _, arg := range appArgs {
			if strings.Contains(string(body), arg) {
				t.Errorf("the sidecar's %s contains the app's argument %q", path, arg)
			}
		}
		if strings.Contains(string(body), "cmdline") {
			t.Errorf("the sidecar's %s mentions cmdline", path)
		}
	}
}

// urlPort is the port of a local URL.
func urlPort(t *testing.T, rawURL string) int {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatalf("%s has no port", rawURL)
	}
	return port
}
