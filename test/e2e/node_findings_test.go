//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
	"github.com/gopherscope/gopherscope/sidecar"
	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// TestNodeTunedPodRunsWithGOMEMLIMITSet: a pod with a memory limit and
// gopherscope.io/tune: gomemlimit runs its app with GOMEMLIMIT at 90% of the
// limit, read back from the running process, and its sidecar, told so,
// raises no no_gomemlimit finding.
func TestNodeTunedPodRunsWithGOMEMLIMITSet(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-tune", injectEnabled)
	d := e.demoDeployment(ns, "tuned")
	d.Spec.Template.Annotations[config.AnnotationTune] = config.TuningGOMEMLIMIT
	d.Spec.Template.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}
	pod := e.runDeployment(t, d)

	const want = "120795955" // 90% of 128 MiB, in bytes
	var status injector.Status
	if err := json.Unmarshal([]byte(pod.Annotations[config.AnnotationStatus]), &status); err != nil {
		t.Fatalf("status annotation: %v", err)
	}
	if status.Tuned[config.EnvGOMEMLIMIT] != want {
		t.Errorf("status records tuned %v, want %s=%s", status.Tuned, config.EnvGOMEMLIMIT, want)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", containerPID(t, statusOf(pod, "app"))))
	if err != nil {
		t.Fatal(err)
	}
	if vars := strings.Split(string(environ), "\x00"); !slices.Contains(vars, config.EnvGOMEMLIMIT+"="+want) {
		t.Errorf("the running app's environment has no %s=%s: %q", config.EnvGOMEMLIMIT, want, vars)
	}

	// A few samples in (the finding would be raised on the first), the
	// sidecar knows the limit is set.
	waitForSample(t, localcluster.PodURL(pod, sidecarPort, "/metrics"), "the app's goroutines", func(s localcluster.Samples) bool {
		return s.Has("go_goroutines") && s["gopherscope_target_up"] == 1
	})
	time.Sleep(3 * time.Second)
	for _, f := range podFindings(t, pod) {
		if f.Kind == findings.NoGOMEMLIMIT {
			t.Errorf("the tuned pod's sidecar reports %s: %+v", f.Kind, f)
		}
	}
}

// TestNodeLeakingAppRaisesTheLeakFindingInMetrics: the demo app leaking 20
// goroutines a second, with short thresholds set by annotation, raises
// gopherscope_finding{kind="goroutine_leak"} on its sidecar's /metrics,
// and the finding names the leaking function.
func TestNodeLeakingAppRaisesTheLeakFindingInMetrics(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-leak", injectEnabled)
	d := e.demoDeployment(ns, "leaky", "--leak-rate=20")
	d.Spec.Template.Annotations[config.AnnotationFindings] = "leak-window=5s,leak-windows=3,leak-min-growth=50"
	pod := e.runDeployment(t, d)

	series := `gopherscope_finding{kind="goroutine_leak",severity="warning"}`
	deadline := time.Now().Add(2 * time.Minute)
	for {
		s, err := localcluster.Scrape(t.Context(), localcluster.PodURL(pod, sidecarPort, "/metrics"))
		if err == nil && s[series] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not on the sidecar's /metrics within 2 minutes (last error %v, goroutines %v)", series, err, s["go_goroutines"])
		}
		time.Sleep(time.Second)
	}
	var leak *findings.Finding
	for range 30 {
		for _, f := range podFindings(t, pod) {
			if f.Kind == findings.GoroutineLeak && len(f.Stacks) > 0 {
				leak = &f
			}
		}
		if leak != nil {
			break
		}
		time.Sleep(time.Second)
	}
	if leak == nil {
		t.Fatal("the leak finding names no stacks within 30 s of being raised")
	}
	if !strings.HasSuffix(leak.Stacks[0].Function, ".leakedRequest") {
		t.Errorf("the leak names %q first, want the demo app's leakedRequest: %+v", leak.Stacks[0].Function, leak.Stacks)
	}
}

// podFindings is the sidecar's GET /api/v1/findings of pod.
func podFindings(t *testing.T, pod *corev1.Pod) []findings.Finding {
	t.Helper()
	body, err := localcluster.Get(t.Context(), localcluster.PodURL(pod, sidecarPort, sidecar.FindingsPath))
	if err != nil {
		t.Fatalf("GET %s: %v", sidecar.FindingsPath, err)
	}
	var resp sidecar.FindingsResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return resp.Findings
}
