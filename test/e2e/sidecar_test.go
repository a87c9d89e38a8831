//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar/history"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// normalizedSeries are series the sidecar must derive from the demo app's
// expvar and pprof endpoints (client_golang's names).
var normalizedSeries = []string{
	"go_goroutines",
	"go_threads",
	"go_memstats_heap_inuse_bytes",
	"go_memstats_alloc_bytes_total",
	"go_memstats_mallocs_total",
	"go_gc_duration_seconds",
}

// testSidecarBehindStoredSpec creates a pod sampled every second, then runs
// the demo app and the sidecar as local processes with exactly the args and
// env of the stored containers (ports mapped to free local ones) and reads
// the sidecar's /metrics and history: the flow `make demo` shows.
func testSidecarBehindStoredSpec(t *testing.T, e *env) {
	ns := e.namespace(t, "sidecar", map[string]string{config.KeyInject: config.InjectEnabled})
	stored := e.create(t, goPod(ns, "web", map[string]string{"app": "web"}, map[string]string{config.AnnotationInterval: "1s"}))
	assertInjected(t, stored, "1s")

	pod := runLocally(t, e, stored)
	t.Logf("sidecar runs as: sidecar %q with env %q", pod.Args[config.SidecarContainerName], pod.Env[config.SidecarContainerName])

	sidecar := pod.Processes[config.SidecarContainerName]
	if err := sidecar.WaitReady(t.Context(), pod.URL(9184, sidecarconf.SidecarReadyzPath), 30*time.Second); err != nil {
		t.Fatal(err)
	}
	samples := waitForSeries(t, pod.URL(9184, sidecarconf.SidecarMetricsPath), normalizedSeries)
	if got := samples["gopherscope_target_up"]; got != 1 {
		t.Errorf("gopherscope_target_up = %v, want 1", got)
	}
	if got := samples["go_goroutines"]; got < 3 {
		t.Errorf("go_goroutines = %v, want the demo app's few goroutines (at least 3)", got)
	}

	// After a few 1s intervals the history holds a few points. The pod's
	// name and namespace reach the sidecar through the downward-API env of
	// the spec, the interval through its args.
	h := waitForHistory(t, pod.URL(9184, sidecarconf.SidecarHistoryPath), 3)
	if h.Pod != stored.Name || h.Namespace != ns || h.Interval != "1s" {
		t.Errorf("history names pod %s/%s sampled every %s, want %s/%s every 1s", h.Namespace, h.Pod, h.Interval, ns, stored.Name)
	}
}

// waitForHistory polls the sidecar's history (for up to 20 s) until it
// holds at least n points.
func waitForHistory(t *testing.T, url string, n int) history.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var h history.Response
	for {
		body, err := localcluster.Get(ctx, url)
		if err == nil {
			h = history.Response{}
			err = json.Unmarshal(body, &h)
		}
		if err == nil && len(h.Points) >= n {
			return h
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s has %d points after 20s, want %d (last error: %v)", url, len(h.Points), n, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitForSeries scrapes url until every named series is present (for up to
// 20 s) and returns the last scrape.
func waitForSeries(t *testing.T, url string, names []string) localcluster.Samples {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var missing []string
	for {
		samples, err := localcluster.Scrape(ctx, url)
		missing = missing[:0]
		if err == nil {
			for _, n := range names {
				if !samples.Has(n) {
					missing = append(missing, n)
				}
			}
			if len(missing) == 0 {
				return samples
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s still lacks %q after 20s (last error: %v)", url, missing, errors.Join(err, ctx.Err()))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// runLocally runs a stored pod's app and sidecar containers as local
// processes with exactly their args and env, stopped when the test ends.
func runLocally(t *testing.T, e *env, stored *corev1.Pod) *localcluster.Pod {
	t.Helper()
	pod, err := localcluster.RunPod(localcluster.PodOptions{
		Pod:      stored,
		Binaries: map[string]string{"app": bins["demo-app"], config.SidecarContainerName: bins["sidecar"]},
		LogDir:   e.workDir,
	})
	if err != nil {
		t.Fatalf("run the pod locally: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(pod.Processes[config.SidecarContainerName].LogTail(20))
		}
		if err := pod.Stop(); err != nil {
			t.Errorf("stop the pod's processes: %v", err)
		}
	})
	return pod
}
