package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// TestTop lists pods from a real API server and reads their stats from a
// server playing the diagnostics API: the table, its sorting, pods that
// refuse or hang shown with their reason, and a hundred pods at once.
func TestTop(t *testing.T) {
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster := localcluster.StartForTest(t, root)
	client := cluster.Client()
	ptr := func(v float64) *float64 { return &v }
	now := time.Now()
	stats := map[string]api.StatsResponse{
		"shop/web-1": {TargetUp: true, Time: now, Goroutines: ptr(120), HeapInuseBytes: ptr(50 << 20), GCPerSecond: ptr(0.5),
			GCPauseP99Seconds: ptr(0.000250), AllocBytesPerSecond: ptr(10 << 20), Findings: []findings.Finding{{Kind: findings.GoroutineLeak}}},
		"shop/web-2": {TargetUp: true, Time: now, Goroutines: ptr(30), HeapInuseBytes: ptr(1.5 * (1 << 30)), GCPerSecond: ptr(2),
			GCPauseP99Seconds: ptr(0.0012), AllocBytesPerSecond: ptr(300 << 10), Findings: []findings.Finding{}},
		"shop/web-3":   {TargetUp: false, Time: now, Goroutines: ptr(7)},
		"shop/fresh":   {TargetUp: true},
		"other/api-1":  {TargetUp: true, Time: now, Goroutines: ptr(12), HeapInuseBytes: ptr(4 << 20), GCPerSecond: ptr(0.1), GCPauseP99Seconds: ptr(0.00005), AllocBytesPerSecond: ptr(1 << 20)},
		"many/default": {TargetUp: true, Time: now, Goroutines: ptr(9), HeapInuseBytes: ptr(1 << 20), GCPerSecond: ptr(1), GCPauseP99Seconds: ptr(0.0001), AllocBytesPerSecond: ptr(1 << 20)},
	}
	var inFlight, maxInFlight atomic.Int64
	agg := startAggregator(t, cluster.Config(), func(w http.ResponseWriter, r *http.Request, req diagRequest) {
		if req.resource != api.Stats {
			writeTestStatus(w, apierrors.NewBadRequest("top asked for "+req.resource))
			return
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		key := req.namespace + "/" + req.pod
		switch {
		case req.pod == "denied":
			writeTestStatus(w, apierrors.NewForbidden(schema.GroupResource{Group: api.Group, Resource: "pods/stats"}, req.pod, errors.New("RBAC grants no get on it")))
			return
		case req.pod == "down":
			writeTestStatus(w, apierrors.NewServiceUnavailable("pod shop/down: the sidecar at 10.0.0.1:9443 did not answer: dial tcp 10.0.0.1:9443: connect: connection refused"))
			return
		case req.pod == "stuck":
			<-r.Context().Done()
			return
		case req.namespace == "many":
			time.Sleep(100 * time.Millisecond)
			key = "many/default"
		}
		s, ok := stats[key]
		if !ok {
			writeTestStatus(w, apierrors.NewNotFound(schema.GroupResource{Group: api.Group, Resource: "pods/stats"}, req.pod))
			return
		}
		writeJSON(t, w, s)
	})
	createTopPods(t, client, "shop", map[string]string{"web-1": "front", "web-2": "", "web-3": "", "fresh": "", "denied": "", "down": "", "stuck": ""})
	createTopPod(t, client, "shop", "pending", "", true, false)
	createTopPod(t, client, "shop", "plain", "", false, true)
	createTopPods(t, client, "other", map[string]string{"api-1": "front"})
	many := map[string]string{}
	for i := range 100 {
		many[fmt.Sprintf("load-%03d", i)] = ""
	}
	createTopPods(t, client, "many", many)
	kube := []string{"--kubeconfig", agg.kubeconfig}

	t.Run("one line per injected pod, sorted, with the pods that did not answer and why", func(t *testing.T) {
		start := time.Now()
		code, stdout, stderr := run(t, "", append([]string{"top", "-n", "shop", "--sort", "goroutines", "--pod-timeout", "1s"}, kube...)...)
		elapsed := time.Since(start)
		t.Logf("in %s; stdout:\n%s\nstderr:\n%s", elapsed, stdout, stderr)
		if code != 0 {
			t.Fatalf("exit code %d", code)
		}
		want := []string{
			"NAME GOROUTINES HEAP GC/S PAUSE-P99 ALLOC/S FINDINGS",
			"web-1 120 50Mi 0.50 250µs 10Mi goroutine_leak",
			"web-2 30 1.5Gi 2.00 1.2ms 300Ki -",
			"web-3 7 - - - - (app not answering)",
			"denied <forbidden>",
			"down <unreachable: connection refused>",
			"fresh <no sample yet>",
			"pending <Pending>",
			"stuck <timeout>",
		}
		if diff := cmp.Diff(want, fieldLines(stdout)); diff != "" {
			t.Errorf("table (-want +got):\n%s", diff)
		}
		for _, note := range []string{
			"<forbidden> 1 pod shop/denied: pods/stats.diagnostics.gopherscope.io \"denied\" is forbidden: RBAC grants no get on it (ask for a RoleBinding of the ClusterRole " + statsClusterRole,
			"<timeout> 1 pod shop/stuck: no answer within 1s (--pod-timeout)",
		} {
			if !strings.Contains(stderr, note) {
				t.Errorf("stderr lacks %q", note)
			}
		}
		if elapsed > 4*time.Second {
			t.Errorf("took %s: the hanging pod held up the others beyond its 1s timeout", elapsed)
		}
	})

	t.Run("--sort heap puts the largest heap first and pods without one last", func(t *testing.T) {
		code, stdout, stderr := run(t, "", append([]string{"top", "-n", "shop", "--sort", "heap", "--pod-timeout", "200ms"}, kube...)...)
		if code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
		}
		if got := firstFields(fieldLines(stdout)[1:]); !cmp.Equal(got[:3], []string{"web-2", "web-1", "denied"}) {
			t.Errorf("order %q, want web-2, web-1, then the pods without a heap by name", got)
		}
	})

	t.Run("-A adds the namespace, and -l narrows the injected pods", func(t *testing.T) {
		code, stdout, stderr := run(t, "", append([]string{"top", "-A", "-l", "tier=front"}, kube...)...)
		want := []string{
			"NAMESPACE NAME GOROUTINES HEAP GC/S PAUSE-P99 ALLOC/S FINDINGS",
			"other api-1 12 4.0Mi 0.10 50µs 1.0Mi -",
			"shop web-1 120 50Mi 0.50 250µs 10Mi goroutine_leak",
		}
		if diff := cmp.Diff(want, fieldLines(stdout)); code != 0 || diff != "" {
			t.Errorf("exit code %d, stderr %q, table (-want +got):\n%s", code, stderr, diff)
		}
	})

	t.Run("100 pods that answer in 100ms each take under 2s, at most 16 at a time", func(t *testing.T) {
		maxInFlight.Store(0)
		start := time.Now()
		code, stdout, stderr := run(t, "", append([]string{"top", "-n", "many"}, kube...)...)
		elapsed := time.Since(start)
		if code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
		}
		lines := fieldLines(stdout)
		if len(lines) != 101 || lines[1] != "load-000 9 1.0Mi 1.00 100µs 1.0Mi -" || lines[100] != "load-099 9 1.0Mi 1.00 100µs 1.0Mi -" {
			t.Errorf("%d lines, want a header and 100 pods with their stats:\n%s", len(lines), stdout)
		}
		if elapsed >= 2*time.Second {
			t.Errorf("took %s, want under 2s", elapsed)
		}
		if m := maxInFlight.Load(); m > topConcurrency || m < 2 {
			t.Errorf("%d requests at once, want between 2 and %d", m, topConcurrency)
		}
		t.Logf("100 pods in %s, at most %d requests at once", elapsed, maxInFlight.Load())
	})

	t.Run("--watch redraws until interrupted", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		var stdout, stderr bytes.Buffer
		code := Main(ctx, "gopherscope", append([]string{"top", "-n", "other", "--watch", "--interval", "1s"}, kube...), Streams{Out: &stdout, ErrOut: &stderr})
		n := 0
		for _, line := range fieldLines(stdout.String()) {
			if strings.HasPrefix(line, "api-1 12 ") {
				n++
			}
		}
		if code != 0 || n < 2 {
			t.Errorf("exit code %d, %d tables, want 0 and 2 or more; stdout:\n%s\nstderr:\n%s", code, n, stdout.String(), stderr.String())
		}
	})

	t.Run("-n and -A together are a usage error", func(t *testing.T) {
		code, _, stderr := run(t, "", append([]string{"top", "-n", "shop", "-A"}, kube...)...)
		if code != exitUsage || !strings.Contains(stderr, "give -n NAMESPACE or -A, not both") {
			t.Errorf("exit code %d, stderr %q", code, stderr)
		}
	})
}

// fieldLines are out's non-empty lines with their cells joined by one space.
func fieldLines(out string) []string {
	var lines []string
	for line := range strings.SplitSeq(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			lines = append(lines, strings.Join(f, " "))
		}
	}
	return lines
}

// firstFields are the lines' first words.
func firstFields(lines []string) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, strings.Fields(l)[0])
	}
	return out
}

// createTopPods creates injected, running pods in namespace (which it
// creates), each with its tier label (none if empty), 8 at a time.
func createTopPods(t *testing.T, client kubernetes.Interface, namespace string, tiers map[string]string) {
	t.Helper()
	if _, err := client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	slots := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for name, tier := range tiers {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			createTopPod(t, client, namespace, name, tier, true, true)
		})
	}
	wg.Wait()
}

// createTopPod creates a pod, injected (the label and the sidecar container)
// or not, and marks it running or leaves it pending.
func createTopPod(t *testing.T, client kubernetes.Interface, namespace, name, tier string, injected, running bool) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "app"}}},
	}
	if tier != "" {
		pod.Labels["tier"] = tier
	}
	if injected {
		pod.Labels[config.LabelSidecarVersion] = "v1"
		pod.Spec.InitContainers = []corev1.Container{{Name: config.SidecarContainerName, Image: "sidecar"}}
	}
	created, err := client.CoreV1().Pods(namespace).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Error(err)
		return
	}
	if !running {
		created.Status.Phase = corev1.PodPending
	} else {
		created.Status.Phase, created.Status.PodIP = corev1.PodRunning, "10.0.0.1"
	}
	if _, err := client.CoreV1().Pods(namespace).UpdateStatus(t.Context(), created, metav1.UpdateOptions{}); err != nil {
		t.Error(err)
	}
}
