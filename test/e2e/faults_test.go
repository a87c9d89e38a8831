//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/auditor"
	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// Sizes of the burst of pod creations during which the webhook is killed.
const (
	burstPods    = 150
	burstWorkers = 6
	burstKillAt  = 50 // pods created before the SIGKILL
)

// TestFaults breaks what gopherscope depends on while it works, sharing one
// control plane (chart defaults: failurePolicy Ignore) between subtests:
// the app under the sidecar is restarted and replaced by hostile servers,
// the webhook is killed in the middle of a burst, and the API server is
// restarted under the webhook.
func TestFaults(t *testing.T) {
	e := startEnv(t, nil)
	t.Run("the demo app restarted under the sidecar: the restart is counted and no counter goes backwards", func(t *testing.T) {
		testAppRestartUnderSidecar(t, e)
	})
	t.Run("the app replaced by one that hangs, answers garbage or 50 MB: the sidecar stays up and small, and recovers", func(t *testing.T) {
		testHostileAppUnderSidecar(t, e)
	})
	t.Run("the webhook killed during a burst: every pod is created and the auditor finds exactly the uninjected ones", func(t *testing.T) {
		testWebhookKilledDuringBurst(t, e)
	})
	t.Run("the API server restarted: the webhook's cache resyncs and new pods are injected", func(t *testing.T) {
		testAPIServerRestart(t, e)
	})
}

// burstResult is the outcome of one creation of the burst.
type burstResult struct {
	name     string
	err      error
	injected bool
}

func testWebhookKilledDuringBurst(t *testing.T, e *env) {
	ns := e.namespace(t, "burst", map[string]string{config.KeyInject: config.InjectEnabled})
	pid := pidOf(t, bins["webhook"], "--port="+strconv.Itoa(e.webhook.Port))

	var next, created atomic.Int64
	results := make([]burstResult, burstPods)
	var wg sync.WaitGroup
	for range burstWorkers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < burstPods; i = int(next.Add(1)) - 1 {
				name := fmt.Sprintf("burst-%03d", i)
				stored, err := e.client.CoreV1().Pods(ns).Create(t.Context(), goPod(ns, name, nil, nil), metav1.CreateOptions{})
				results[i] = burstResult{name: name, err: err}
				if err == nil {
					results[i].injected = sidecarOf(stored) != nil
				}
				created.Add(1)
			}
		})
	}
	for created.Load() < burstKillAt {
		time.Sleep(time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the webhook (pid %d): %v", pid, err)
	}
	killedAt := created.Load()
	wg.Wait()
	<-e.webhook.Exited()
	if err := e.webhook.ExitError(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("the webhook's exit = %v, want killed by the signal", err)
	}

	var failed int
	var uninjected []string
	for _, r := range results {
		switch {
		case r.err != nil:
			failed++
			if failed <= 5 {
				t.Errorf("creating %s failed: %v", r.name, r.err)
			}
		case !r.injected:
			uninjected = append(uninjected, r.name)
		}
	}
	t.Logf("burst of %d pods, webhook SIGKILLed after %d: %d failed, %d injected, %d without the sidecar",
		burstPods, killedAt, failed, burstPods-failed-len(uninjected), len(uninjected))
	if failed != 0 {
		t.Fatalf("%d creations failed; with failurePolicy Ignore every pod must be created", failed)
	}
	// Creations that completed before the kill were injected; all but the
	// few in flight at the kill were answered by a dead webhook.
	if injected := burstPods - len(uninjected); injected < int(killedAt) || len(uninjected) < burstPods-int(killedAt)-burstWorkers {
		t.Fatalf("%d pods injected and %d without the sidecar; want at least the %d created before the kill injected and at least %d of the others without",
			injected, len(uninjected), killedAt, burstPods-int(killedAt)-burstWorkers)
	}

	// An auditor replica (the chart runs it in the webhook's replicas) finds them.
	a := startAuditorReplica(t, e)
	waitForUninjectedIn(t, a.MetricsURL, ns, len(uninjected))
	got := waitForSidecarMissing(t, e, ns, len(uninjected))
	if diff := cmp.Diff(uninjected, got); diff != "" {
		t.Errorf("pods the auditor reported (-uninjected +reported):\n%s", diff)
	}

	if err := e.webhook.Restart(t.Context()); err != nil {
		t.Fatalf("restart the webhook: %v", err)
	}
	assertInjected(t, e.create(t, goPod(ns, "after-the-kill", nil, nil)), "10s")
	time.Sleep(2 * time.Second) // the auditor sees a new pod within milliseconds
	waitForUninjectedIn(t, a.MetricsURL, ns, len(uninjected))
}

// startAuditorReplica runs a second webhook process with the auditor on,
// with the running webhook's config and certificate, on free ports, until t ends.
func startAuditorReplica(t *testing.T, e *env) *localcluster.Webhook {
	t.Helper()
	ports, err := localcluster.FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	addr := func(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }
	w := &localcluster.Webhook{Port: ports[0], CertDir: e.webhook.CertDir, ConfigPath: e.webhook.ConfigPath,
		MetricsURL: "http://" + addr(ports[1]) + "/metrics", ReadyURL: "http://" + addr(ports[2]) + "/readyz"}
	w.Process, err = localcluster.StartProcess(localcluster.ProcessOptions{
		Name: "auditor-replica",
		Path: bins["webhook"],
		Args: []string{"--config=" + w.ConfigPath, "--cert-dir=" + w.CertDir, "--port=" + strconv.Itoa(w.Port),
			"--metrics-address=" + addr(ports[1]), "--health-address=" + addr(ports[2]),
			"--namespace=" + e.release.Namespace, "--auditor", "--auditor-period=1m"},
		Env:    []string{"KUBECONFIG=" + e.cluster.Kubeconfig()},
		LogDir: e.workDir,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(w.LogTail(30))
		}
		if err := w.Stop(); err != nil {
			t.Errorf("stop the auditor replica: %v", err)
		}
	})
	if err := w.WaitReady(t.Context(), w.ReadyURL, time.Minute); err != nil {
		t.Fatal(err)
	}
	return w
}

// waitForUninjectedIn waits until gopherscope_uninjected_pods{namespace=ns}
// is want on the metrics URL, and stays so for a second.
func waitForUninjectedIn(t *testing.T, metricsURL, ns string, want int) {
	t.Helper()
	series := auditor.MetricUninjectedPods + `{namespace="` + ns + `"}`
	var got float64
	var err error
	deadline := time.Now().Add(90 * time.Second)
	for stable := 0; stable < 5 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var samples localcluster.Samples
		if samples, err = localcluster.Scrape(t.Context(), metricsURL); err == nil {
			got = samples[series]
		}
		if err == nil && got == float64(want) {
			stable++
		} else {
			stable = 0
		}
	}
	if err != nil || got != float64(want) {
		t.Fatalf("%s = %v (error %v), want %d", series, got, err, want)
	}
}

// waitForSidecarMissing waits until the auditor's SidecarMissing Events in
// ns regard n pods and returns their names, sorted.
func waitForSidecarMissing(t *testing.T, e *env, ns string, n int) []string {
	t.Helper()
	var names []string
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		list, err := e.client.EventsV1().Events(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("list events in %s: %v", ns, err)
		}
		names = names[:0]
		for _, ev := range list.Items {
			if ev.Reason == config.EventReasonSidecarMissing && ev.ReportingController == auditor.ControllerName && ev.Regarding.Kind == "Pod" {
				names = append(names, ev.Regarding.Name)
			}
		}
		if len(names) >= n {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func testAPIServerRestart(t *testing.T, e *env) {
	enabled := map[string]string{config.KeyInject: config.InjectEnabled}
	ns := e.namespace(t, "restart", enabled)
	later := e.namespace(t, "labelled-later", nil)
	assertInjected(t, e.create(t, goPod(ns, "before", nil, nil)), "10s")

	start := time.Now()
	if err := e.cluster.RestartAPIServer(); err != nil {
		t.Fatalf("restart the API server: %v", err)
	}
	t.Logf("kube-apiserver restarted in %s", time.Since(start).Round(100*time.Millisecond))
	select {
	case <-e.webhook.Exited():
		t.Fatalf("the webhook exited when the API server restarted: %v\n%s", e.webhook.ExitError(), e.webhook.LogTail(20))
	default:
	}
	if err := e.webhook.WaitReady(t.Context(), e.webhook.ReadyURL, time.Minute); err != nil {
		t.Fatal(err)
	}
	assertInjected(t, e.create(t, goPod(ns, "after", nil, nil)), "10s")

	// Labelling an existing namespace reaches the handler only through its
	// namespace cache's watch (a namespace the cache knows is never read
	// live), so an injection there proves the watch was re-established.
	nsObj, err := e.client.CoreV1().Namespaces().Get(t.Context(), later, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertUntouched(t, e.create(t, goPod(later, "before-the-label", nil, nil)), goPod(later, "before-the-label", nil, nil))
	nsObj.Labels = enabled
	if _, err := e.client.CoreV1().Namespaces().Update(t.Context(), nsObj, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := eventuallyInjected(t.Context(), e, later); err != nil {
		t.Fatalf("after the restart a namespace labelled enabled: %v\n%s", err, e.webhook.LogTail(20))
	}
}

// eventuallyInjected dry-runs pod creations in ns until one comes back
// injected (the label may take a moment to reach the cache).
func eventuallyInjected(ctx context.Context, e *env, ns string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		got, err := e.client.CoreV1().Pods(ns).Create(ctx, goPod(ns, "dry", nil, nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil && sidecarOf(got) != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(errors.New("no dry-run pod was injected within 30s"), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
