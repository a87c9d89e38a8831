//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	exptrace "golang.org/x/exp/trace"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// The diagnostics users of the test, each impersonated through the admin's
// credentials: the API server authenticates the request as that user and
// tells the diagnostics server who it is through its front proxy.
const (
	statsUser    = "stats-reader"
	profilesUser = "profiler"
	strangerUser = "stranger"
)

// TestNodeDiagnosticsThroughTheAPIServer proves issue 16 where users meet
// it: the chart installed unchanged on the real node registers the
// aggregated API (Available), and users reach injected pods' profiles
// through kube-apiserver as RBAC allows: stats for the stats role, profiles
// for the profiles role, nothing for another namespace's user. A 30 s CPU
// profile of a burning app names its hot function, while the rest runs
// beside it: a concurrent one is refused, a heap profile names the app's
// allocating function, a goroutine dump its burning goroutine, every bad
// request gets a clear status, the sidecar's port gives nothing to a
// client without the certificate, and a hung sidecar (of another pod) is a
// timeout that leaves nothing behind. Then a trace parses.
func TestNodeDiagnosticsThroughTheAPIServer(t *testing.T) {
	e := realNode(t)
	out, err := waitAPIServiceAvailable(t, e)
	if err != nil {
		t.Fatalf("the diagnostics APIService is not Available: %v\n%s\ndiagnostics server log:\n%s", err, out, e.componentLog(t, "diagnostics", 40))
	}
	t.Logf("kubectl get apiservice:\n%s", out)

	ns := e.namespace(t, "node-diag", injectEnabled)
	other := e.namespace(t, "node-diag-other", injectEnabled)
	waitDiagnosticsInjected(t, e, ns)
	statsRole, profilesRole := diagnosticsRoles(t, e)
	bindRole(t, e, ns, statsUser, statsRole)
	bindRole(t, e, ns, profilesUser, profilesRole)
	bindRole(t, e, other, strangerUser, statsRole)
	bindRole(t, e, other, strangerUser, profilesRole)

	uninjected := e.demoDeployment(ns, "plain")
	uninjected.Spec.Template.Labels[config.KeyInject] = config.InjectDisabled
	noPprof := e.demoDeployment(ns, "nopprof", "--mode=prometheus")
	noPprof.Spec.Template.Annotations[config.AnnotationMetricsPath] = "/metrics"
	burner := e.runDeployment(t, e.demoDeployment(ns, "burner"))
	if sc := sidecarOf(burner); sc == nil || !hasPort(sc, config.SidecarDiagnosticsPortName) {
		t.Fatalf("the injected sidecar has no %s port: %s", config.SidecarDiagnosticsPortName, describePod(burner))
	}
	noPprofPod := e.runDeployment(t, noPprof)
	plainPod := e.runDeployment(t, uninjected)
	if sidecarOf(plainPod) != nil {
		t.Fatalf("the opted-out pod was injected: %s", describePod(plainPod))
	}

	// The app burns CPU and keeps 32 MiB, for the profiles to find.
	for _, knob := range []string{"/burn?goroutines=1", "/alloc?bytes=32MiB&keep=true"} {
		if _, err := localcluster.Do(t.Context(), http.MethodPost, localcluster.PodURL(burner, demoAppPort, knob)); err != nil {
			t.Fatal(err)
		}
	}
	waitStats(t, e, burner)

	// The 30 s CPU profile, with everything else beside it.
	type result struct {
		status  int
		body    []byte
		elapsed time.Duration
	}
	cpu := make(chan result, 1)
	go func() {
		start := time.Now()
		status, body := diagGet(t, e, profilesUser, ns, burner.Name, api.Profile, "seconds=30")
		cpu <- result{status, body, time.Since(start)}
	}()
	time.Sleep(2 * time.Second) // the profile has begun

	t.Run("a second CPU profile of the pod is refused while one runs", func(t *testing.T) {
		expectStatus(t, e, profilesUser, ns, burner.Name, api.Profile, "seconds=5", http.StatusConflict, burner.Name)
	})
	t.Run("the stats role gets stats and history, and 403 on profiles", func(t *testing.T) {
		status, body := diagGet(t, e, statsUser, ns, burner.Name, api.Stats, "")
		var stats api.StatsResponse
		if status != http.StatusOK || json.Unmarshal(body, &stats) != nil || stats.Goroutines == nil || *stats.Goroutines < 3 || !stats.TargetUp {
			t.Errorf("stats as %s = %d %.300s; want the app's figures", statsUser, status, body)
		}
		status, body = diagGet(t, e, statsUser, ns, burner.Name, api.History, "")
		var history api.HistoryResponse
		if status != http.StatusOK || json.Unmarshal(body, &history) != nil || len(history.Points) == 0 {
			t.Errorf("history as %s = %d %.300s; want points", statsUser, status, body)
		}
		for _, res := range []string{api.Heap, api.Goroutine, api.Trace} {
			expectStatus(t, e, statsUser, ns, burner.Name, res, "", http.StatusForbidden, "")
		}
	})
	t.Run("the profiles role gets a heap profile naming the app's functions", func(t *testing.T) {
		status, body := diagGet(t, e, profilesUser, ns, burner.Name, api.Heap, "")
		if status != http.StatusOK {
			t.Fatalf("heap as %s = %d %.300s", profilesUser, status, body)
		}
		p, err := profile.Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("the heap profile does not parse: %v", err)
		}
		if fn := heaviest(p, "inuse_space"); !strings.Contains(fn, "/cmd/demo-app/") {
			t.Errorf("the heap profile's heaviest in-use function is %q; want the demo app's allocator", fn)
		}
		status, body = diagGet(t, e, profilesUser, ns, burner.Name, api.Goroutine, "debug=2")
		if status != http.StatusOK || !strings.Contains(string(body), "app.BurnCPU") {
			t.Errorf("goroutine?debug=2 = %d; want a dump naming BurnCPU:\n%.500s", status, body)
		}
		expectStatus(t, e, profilesUser, ns, burner.Name, api.Stats, "", http.StatusForbidden, "")
	})
	t.Run("a user of another namespace gets 403 everywhere", func(t *testing.T) {
		for _, res := range []string{api.Stats, api.History, api.Heap, api.Profile} {
			expectStatus(t, e, strangerUser, ns, burner.Name, res, "", http.StatusForbidden, "")
		}
	})
	t.Run("bad requests get clear statuses", func(t *testing.T) {
		expectStatus(t, e, profilesUser, ns, "no-such-pod", api.Heap, "", http.StatusNotFound, "no-such-pod")
		expectStatus(t, e, profilesUser, ns, plainPod.Name, api.Heap, "", http.StatusNotFound, plainPod.Name)
		expectStatus(t, e, profilesUser, ns, noPprofPod.Name, api.Heap, "", http.StatusServiceUnavailable, "pprof has not answered")
		expectStatus(t, e, profilesUser, ns, burner.Name, api.Profile, "seconds=60", http.StatusBadRequest, "45")
		expectStatus(t, e, profilesUser, ns, burner.Name, "cmdline", "", http.StatusForbidden, "pods/cmdline")
	})
	t.Run("the sidecar's port gives nothing without the client certificate", func(t *testing.T) {
		addr := net.JoinHostPort(burner.Status.PodIP, strconv.Itoa(int(portOf(sidecarOf(burner), config.SidecarDiagnosticsPortName))))
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, // the client's side is under test
		}}
		for _, path := range []string{"/heap", "/debug/pprof/heap", "/goroutine?debug=2", "/"} {
			resp, err := client.Get("https://" + addr + path)
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				t.Errorf("GET %s without a client certificate = %s (%d bytes); want the handshake refused", path, resp.Status, len(body))
			}
		}
		if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + addr + "/heap"); err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK || bytes.Contains(body, []byte("heap")) {
				t.Errorf("plain HTTP to the diagnostics port = %s %.100q; want no profile", resp.Status, body)
			}
		}
	})
	t.Run("gopherscope top lists the namespace's injected pods as the stats user", func(t *testing.T) {
		out, err := exec.CommandContext(t.Context(), filepath.Join(repoRoot, "bin", "gopherscope"), "top",
			"--kubeconfig", e.cluster.Kubeconfig(), "--as", statsUser, "-n", ns).CombinedOutput()
		t.Logf("gopherscope top:\n%s", out)
		if err != nil || !strings.Contains(string(out), burner.Name) || !strings.Contains(string(out), noPprofPod.Name) || strings.Contains(string(out), plainPod.Name) {
			t.Errorf("gopherscope top: %v; want a line per injected pod", err)
		}
	})

	t.Run("a hung sidecar is a timeout that leaves nothing behind", func(t *testing.T) {
		pod := e.waitPod(t, ns, "app=nopprof", "Ready", localcluster.PodReady)
		pid := containerPID(t, statusOf(pod, config.SidecarContainerName))
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		resume := func() { once.Do(func() { _ = syscall.Kill(pid, syscall.SIGCONT) }) }
		defer resume()
		start := time.Now()
		expectStatus(t, e, statsUser, ns, pod.Name, api.Stats, "", http.StatusGatewayTimeout, "did not answer in time")
		t.Logf("a stopped sidecar answered 504 after %s", time.Since(start).Round(100*time.Millisecond))
		resume()
		waitStats(t, e, pod)
	})

	r := <-cpu
	t.Logf("30 s CPU profile through the API server in %s", r.elapsed.Round(10*time.Millisecond))
	if r.status != http.StatusOK {
		t.Fatalf("CPU profile = %d %.300s", r.status, r.body)
	}
	p, err := profile.Parse(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("the CPU profile does not parse: %v", err)
	}
	if fn := heaviest(p, "cpu"); !strings.HasSuffix(fn, "app.BurnCPU") {
		t.Errorf("the CPU profile's heaviest function is %q; want the app's BurnCPU", fn)
	}

	t.Run("gopherscope profile writes a heap profile, also as a kubectl plugin", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Symlink(filepath.Join(repoRoot, "bin", "gopherscope"), filepath.Join(dir, "kubectl-gopherscope")); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "heap.pb.gz")
		cmd := exec.CommandContext(t.Context(), e.cluster.Kubectl(), "gopherscope", "profile", burner.Name, "--heap", "-o", file,
			"--kubeconfig", e.cluster.Kubeconfig(), "--as", profilesUser, "-n", ns)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		t.Logf("kubectl gopherscope profile --heap:\n%s", out)
		if err != nil {
			t.Fatalf("kubectl gopherscope profile: %v", err)
		}
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		p, err := profile.Parse(f)
		if err != nil {
			t.Fatalf("the written heap profile does not parse: %v", err)
		}
		if fn := heaviest(p, "inuse_space"); !strings.Contains(fn, "/cmd/demo-app/") || !strings.Contains(string(out), "demo-app") {
			t.Errorf("heaviest in-use function %q, summary above; want the demo app's allocator in both", fn)
		}
	})
	t.Run("a trace parses", func(t *testing.T) {
		status, body := diagGet(t, e, profilesUser, ns, burner.Name, api.Trace, "seconds=2")
		if status != http.StatusOK {
			t.Fatalf("trace = %d %.300s", status, body)
		}
		events, err := traceEvents(body)
		if err != nil || events == 0 {
			t.Errorf("the trace (%d bytes) has %d events: %v", len(body), events, err)
		}
	})

}

// waitAPIServiceAvailable waits for kubectl to show the diagnostics
// APIService Available, and returns kubectl's last output.
func waitAPIServiceAvailable(t *testing.T, e *nodeEnv) (string, error) {
	t.Helper()
	var out []byte
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		out, err = exec.CommandContext(ctx, e.cluster.Kubectl(), "--kubeconfig", e.cluster.Kubeconfig(), "get", "apiservice", api.APIService).CombinedOutput()
		return err == nil && strings.Contains(string(out), "True"), nil
	})
	return string(out), err
}

// waitDiagnosticsInjected waits until the webhook gives pods of ns the
// diagnostics port: it has read the CA bundle the diagnostics server
// published (a pod created before that is injected without the port, with a
// warning). It asks with server-side dry runs, which go through admission
// and create nothing.
func waitDiagnosticsInjected(t *testing.T, e *nodeEnv, ns string) {
	t.Helper()
	probe := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{e.demoContainer()}},
	}
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, time.Minute, true, func(ctx context.Context) (bool, error) {
		pod, err := e.client.CoreV1().Pods(ns).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			return false, err
		}
		last = pod
		sc := sidecarOf(pod)
		return sc != nil && hasPort(sc, config.SidecarDiagnosticsPortName), nil
	})
	if err != nil {
		t.Fatalf("the webhook does not add the diagnostics port: %v; last dry run: %s\nwebhook log:\n%s", err, describePod(last), e.componentLog(t, "webhook", 20))
	}
}

// componentLog is the end of the log of the chart's component's first pod.
func (e *nodeEnv) componentLog(t *testing.T, component string, lines int64) string {
	t.Helper()
	pods, err := e.client.CoreV1().Pods(e.release.Namespace).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=" + component})
	if err != nil || len(pods.Items) == 0 {
		return fmt.Sprintf("(no %s pod: %v)", component, err)
	}
	body, err := e.client.CoreV1().Pods(e.release.Namespace).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{TailLines: &lines}).DoRaw(t.Context())
	if err != nil {
		return fmt.Sprintf("(log of %s: %v)", pods.Items[0].Name, err)
	}
	return string(body)
}

// diagnosticsRoles finds the chart's two user ClusterRoles.
func diagnosticsRoles(t *testing.T, e *nodeEnv) (stats, profiles string) {
	t.Helper()
	roles, err := e.client.RbacV1().ClusterRoles().List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + e.release.Name})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles.Items {
		switch {
		case strings.HasSuffix(r.Name, "-diagnostics-stats"):
			stats = r.Name
		case strings.HasSuffix(r.Name, "-diagnostics-profiles"):
			profiles = r.Name
		}
	}
	if stats == "" || profiles == "" {
		t.Fatalf("the chart's diagnostics roles are missing (stats %q, profiles %q)", stats, profiles)
	}
	return stats, profiles
}

// bindRole binds a ClusterRole to user in ns.
func bindRole(t *testing.T, e *nodeEnv, ns, user, role string) {
	t.Helper()
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{GenerateName: user + "-", Namespace: ns},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
	}
	if _, err := e.client.RbacV1().RoleBindings(ns).Create(t.Context(), rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// diagGet asks the API server, as user, for a pod's diagnostics resource
// and returns the status and body.
func diagGet(t *testing.T, e *nodeEnv, user, ns, pod, resource, query string) (int, []byte) {
	t.Helper()
	cfg := e.cluster.Config()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	cfg.Timeout = 70 * time.Second
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := client.CoreV1().RESTClient().Get().AbsPath(api.PodPath(ns, pod, resource, nil))
	if query != "" {
		values, err := parseQuery(query)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range values {
			req = req.Param(k, v)
		}
	}
	res := req.Do(t.Context())
	var status int
	res.StatusCode(&status)
	body, err := res.Raw()
	if status == 0 {
		t.Fatalf("GET %s %s as %s: %v", pod, resource, user, err)
	}
	return status, body
}

func parseQuery(q string) (map[string]string, error) {
	out := map[string]string{}
	for kv := range strings.SplitSeq(q, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("query %q: %q is not key=value", q, kv)
		}
		out[k] = v
	}
	return out, nil
}

// expectStatus asks and checks the status and that the answer's message
// says want.
func expectStatus(t *testing.T, e *nodeEnv, user, ns, pod, resource, query string, code int, want string) {
	t.Helper()
	start := time.Now()
	status, body := diagGet(t, e, user, ns, pod, resource, query)
	if d := time.Since(start); d > 3*time.Second {
		t.Logf("%s of %s?%s as %s took %s", resource, pod, query, user, d.Round(100*time.Millisecond))
	}
	var s metav1.Status
	_ = json.Unmarshal(body, &s)
	if status != code || !strings.Contains(s.Message, want) {
		t.Errorf("%s of %s?%s as %s = %d %q; want %d saying %q", resource, pod, query, user, status, s.Message, code, want)
	}
}

// waitStats waits for the pod's stats to have a sample of the app.
func waitStats(t *testing.T, e *nodeEnv, pod *corev1.Pod) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(t.Context(), 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		status, body := diagGet(t, e, statsUser, pod.Namespace, pod.Name, api.Stats, "")
		last = fmt.Sprintf("%d %.300s", status, body)
		var stats api.StatsResponse
		return status == http.StatusOK && json.Unmarshal(body, &stats) == nil && stats.TargetUp && stats.Goroutines != nil, nil
	})
	if err != nil {
		t.Fatalf("no stats of %s through the API server: %v; last answer %s", pod.Name, err, last)
	}
}

// heaviest is the function with the highest flat value of the sample type.
func heaviest(p *profile.Profile, sampleType string) string {
	index := -1
	for i, st := range p.SampleType {
		if st.Type == sampleType {
			index = i
		}
	}
	if index < 0 {
		return ""
	}
	flat := map[string]int64{}
	for _, s := range p.Sample {
		if len(s.Location) > 0 && len(s.Location[0].Line) > 0 {
			flat[s.Location[0].Line[0].Function.Name] += s.Value[index]
		}
	}
	best, max := "", int64(0)
	for fn, v := range flat {
		if v > max {
			best, max = fn, v
		}
	}
	return best
}

// traceEvents reads a runtime/trace with golang.org/x/exp/trace and counts
// its events.
func traceEvents(data []byte) (int, error) {
	r, err := exptrace.NewReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, err := r.ReadEvent()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func hasPort(c *corev1.Container, name string) bool { return portOf(c, name) != 0 }

func portOf(c *corev1.Container, name string) int32 {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}
