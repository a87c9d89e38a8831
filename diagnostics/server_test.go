package diagnostics

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"expvar"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/internal/testlog"
	"github.com/gopherscope/gopherscope/internal/testpki"
	"github.com/gopherscope/gopherscope/sidecar"
	sidecardiag "github.com/gopherscope/gopherscope/sidecar/diagnostics"
	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// TestServerDelegatesToTheAPIServerAndReachesTheSidecar runs the server
// against the local API server (its TokenReviews, SubjectAccessReviews and
// RBAC, and a stored pod) and a real sidecar diagnostics port in front of
// a real net/http/pprof, with requests as the API server's front proxy
// sends them.
func TestServerDelegatesToTheAPIServerAndReachesTheSidecar(t *testing.T) {
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster := localcluster.StartForTest(t, root)
	client := cluster.Client()
	diagCA := testpki.NewCAForTest(t)
	sidecarPort := serveSidecar(t, diagCA)
	createPods(t, client, sidecarPort)
	grant(t, client, "alice", "goroutine", "profile", "stats")

	frontProxyCA := testpki.NewCAForTest(t)
	caContent, err := dynamiccertificates.NewStaticCAContent("front-proxy", frontProxyCA.PEM)
	if err != nil {
		t.Fatal(err)
	}
	authn, authz, err := DelegatedAuth(client, FrontProxy{CA: caContent, Headers: StaticHeaders{AllowedNames: []string{"front-proxy-client"}}})
	if err != nil {
		t.Fatal(err)
	}
	serverCert := diagCA.IssueTLS(t, testpki.CertSpec{CommonName: sidecardiag.DefaultClientName, Client: true})
	logs := &testlog.Lines{}
	srv := New(Options{
		Authenticator: authn, Authorizer: authz, Pods: client.CoreV1(),
		ClientCertificate: func() (*tls.Certificate, error) { return &serverCert, nil },
		Log:               logs.Logger(),
	})
	url, serving := serveTLS(t, srv)

	proxy := frontProxyCA.IssueTLS(t, testpki.CertSpec{CommonName: "front-proxy-client", Client: true})
	strangerCert := frontProxyCA.IssueTLS(t, testpki.CertSpec{CommonName: "someone", Client: true})
	base := url + versionPath + "/namespaces/"
	for _, tc := range []struct {
		name       string
		cert       *tls.Certificate
		user, path string
		status     int
		want       string
	}{
		{"a granted user gets the goroutine dump", &proxy, "alice", "shop/pods/checkout/goroutine?debug=1", 200, "goroutine profile: total "},
		{"a granted user gets the pod's stats", &proxy, "alice", "shop/pods/checkout/stats", 200, `"namespace":"shop","pod":"checkout","interval":"1s"`},
		{"the API server's timeout parameter is not passed on", &proxy, "alice", "shop/pods/checkout/stats?timeout=1m10s", 200, `"pod":"checkout"`},
		{"stats take no query", &proxy, "alice", "shop/pods/checkout/stats?watch=true", 400, `pod shop/checkout: stats takes no query parameters, got \"watch=true\"`},
		{"a resource the user is not granted is forbidden", &proxy, "alice", "shop/pods/checkout/heap", 403, `pods/heap.diagnostics.gopherscope.io \"checkout\" is forbidden`},
		{"history is a resource of its own to grant", &proxy, "alice", "shop/pods/checkout/history", 403, `pods/history.diagnostics.gopherscope.io \"checkout\" is forbidden`},
		{"a user without a grant is forbidden", &proxy, "bob", "shop/pods/checkout/goroutine", 403, "is forbidden"},
		{"a grant in one namespace is not one in another", &proxy, "alice", "other/pods/checkout/goroutine", 403, "is forbidden"},
		{"a pod that does not exist", &proxy, "alice", "shop/pods/gone/goroutine", 404, `pods \"gone\" not found`},
		{"a pod without the sidecar", &proxy, "alice", "shop/pods/plain/goroutine", 404, "has no gopherscope sidecar with a gs-diagnostics port"},
		{"the sidecar's refusal keeps its reason and names the pod", &proxy, "alice", "shop/pods/checkout/profile?seconds=60", 400, "pod shop/checkout: parameter seconds: 60s is longer than the maximum 45s"},
		{"an unknown resource", &proxy, "alice", "shop/pods/checkout/cmdline", 404, "not found"},
		{"headers without the front proxy's certificate", nil, "alice", "shop/pods/checkout/goroutine", 401, "Unauthorized"},
		{"headers with a certificate of the CA for another name", &strangerCert, "alice", "shop/pods/checkout/goroutine", 401, "Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, serving, tc.cert, tc.user, base+tc.path)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%d %.300s; want %d with %q", status, body, tc.status, tc.want)
			}
		})
	}
	t.Run("discovery lists the pods' resources", func(t *testing.T) {
		status, body := get(t, serving, &proxy, "bob", url+versionPath)
		var list metav1.APIResourceList
		if status != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list.APIResources) != len(sidecardiag.ResourceNames()) || list.APIResources[0].Name != "pods/allocs" {
			t.Errorf("%d %.300s", status, body)
		}
		var names []string
		for _, r := range list.APIResources {
			names = append(names, r.Name)
		}
		for _, want := range []string{"pods/" + api.Stats, "pods/" + api.History} {
			if !slices.Contains(names, want) {
				t.Errorf("discovery lists %v, without %s", names, want)
			}
		}
	})
	t.Run("stats come through whole, with this process's figures", func(t *testing.T) {
		status, body := get(t, serving, &proxy, "alice", url+api.PodPath("shop", "checkout", api.Stats, nil))
		var stats api.StatsResponse
		if status != 200 {
			t.Fatalf("%d %.300s", status, body)
		}
		if err := json.Unmarshal([]byte(body), &stats); err != nil {
			t.Fatalf("decode %.300s: %v", body, err)
		}
		goroutines := float64(runtime.NumGoroutine())
		if !stats.TargetUp || stats.Goroutines == nil || math.Abs(*stats.Goroutines-goroutines) > goroutines/2+20 {
			t.Errorf("stats %.300s; want the target up with about %v goroutines", body, goroutines)
		}
		if stats.HeapInuseBytes == nil || *stats.HeapInuseBytes <= 0 || stats.Findings == nil {
			t.Errorf("stats %.300s; want the heap in use and a list of findings", body)
		}
	})
	t.Run("one audit line per request, naming the user", func(t *testing.T) {
		if line := logs.Find(`"user"="alice"`, `"path"="/apis/diagnostics.gopherscope.io/v1alpha1/namespaces/shop/pods/checkout/goroutine"`, `"status"=200`); line == "" {
			t.Errorf("no audit line for alice's dump:\n%s", logs)
		}
	})
}

// serveSidecar runs a real sidecar for shop/checkout on loopback in front
// of this test process's net/http/pprof and expvar, its diagnostics port
// trusting ca's clients; it waits until the sidecar has sampled the app
// and returns the diagnostics port.
func serveSidecar(t *testing.T, ca *testpki.CA) int32 {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.Handle("/debug/vars", expvar.Handler())
	app := listen(t)
	appSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = appSrv.Serve(app) }()
	t.Cleanup(func() { _ = appSrv.Close() })

	opts := sidecar.DefaultOptions()
	opts.TargetPorts = []int{app.Addr().(*net.TCPAddr).Port}
	opts.Interval = time.Second
	opts.PodNamespace, opts.PodName = "shop", "checkout"
	diag := listen(t)
	opts.Diagnostics = sidecardiag.Options{Listener: diag, ClientCAs: ca.PEM}
	metrics := listen(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- sidecar.Serve(ctx, metrics, opts, funcr.New(func(string, string) {}, funcr.Options{})) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the sidecar stopped: %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + metrics.Addr().String() + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sidecar never sampled the app: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return int32(diag.Addr().(*net.TCPAddr).Port)
}

// createPods stores shop/checkout (injected, its sidecar's diagnostics port
// at port on 127.0.0.1), shop/plain (not injected) and other/checkout.
func createPods(t *testing.T, client kubernetes.Interface, port int32) {
	t.Helper()
	ctx := t.Context()
	for _, ns := range []string{"shop", "other"} {
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	app := corev1.Container{Name: "app", Image: "demo-app"}
	sidecar := corev1.Container{Name: config.SidecarContainerName, Image: "sidecar",
		Ports: []corev1.ContainerPort{{Name: config.SidecarDiagnosticsPortName, ContainerPort: port}}}
	for _, p := range []struct {
		ns, name   string
		containers []corev1.Container
	}{
		{"shop", "checkout", []corev1.Container{app, sidecar}},
		{"shop", "plain", []corev1.Container{app}},
		{"other", "checkout", []corev1.Container{app, sidecar}},
	} {
		pod, err := client.CoreV1().Pods(p.ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name}, Spec: corev1.PodSpec{Containers: p.containers},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1", PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}}}
		if _, err := client.CoreV1().Pods(p.ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// grant gives user get on the pods' resources in shop, and waits until
// the API server's RBAC says so.
func grant(t *testing.T, client kubernetes.Interface, user string, resources ...string) {
	t.Helper()
	ctx := t.Context()
	var subresources []string
	for _, r := range resources {
		subresources = append(subresources, "pods/"+r)
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "diagnostics", Namespace: "shop"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{Group}, Resources: subresources, Verbs: []string{"get"}}}}
	if _, err := client.RbacV1().Roles("shop").Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "diagnostics", Namespace: "shop"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "diagnostics"},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}}}
	if _, err := client.RbacV1().RoleBindings("shop").Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		review, err := client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "shop", Verb: "get", Group: Group, Resource: "pods", Subresource: resources[0], Name: "checkout"},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if review.Status.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("RBAC never allowed %s: %s", user, review.Status.Reason)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serveTLS serves h on loopback with a certificate for 127.0.0.1, asking
// clients for a certificate (the front proxy's); it returns the base URL
// and the CA its certificate chains to.
func serveTLS(t *testing.T, h http.Handler) (string, *testpki.CA) {
	t.Helper()
	ca := testpki.NewCAForTest(t)
	s, err := ca.Issue()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := s.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	ln := tls.NewListener(listen(t), &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String(), ca
}

// get asks url as the front proxy would for user, with cert (none if nil).
func get(t *testing.T, server *testpki.CA, cert *tls.Certificate, user, url string) (int, string) {
	t.Helper()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: server.Pool()}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	c := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: cfg}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Remote-User", user)
	req.Header.Set("X-Remote-Group", "system:authenticated")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
