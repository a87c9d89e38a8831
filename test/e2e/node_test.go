//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// Promises proven on running pods of the real node: the kubelet runs the
// injected native sidecar, the probes, the security context and the limits.

var injectEnabled = map[string]string{config.KeyInject: config.InjectEnabled}

func TestNodeDeploymentRunsWithItsSidecarFirstAndReportsTheAppsGoroutines(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-deploy", injectEnabled)
	pod := e.runDeployment(t, e.demoDeployment(ns, "checkout"))

	sc := sidecarOf(pod)
	if sc == nil || sc.RestartPolicy == nil || *sc.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Fatalf("the ReplicaSet's pod has no native sidecar: %s", describePod(pod))
	}
	if sc.StartupProbe == nil || sc.LivenessProbe == nil {
		t.Errorf("the sidecar has no startup or liveness probe: %+v", sc)
	}
	sidecar, app := statusOf(pod, config.SidecarContainerName), statusOf(pod, "app")
	if sidecar.Started == nil || !*sidecar.Started || !sidecar.Ready || !app.Ready {
		t.Fatalf("sidecar started=%v ready=%t, app ready=%t: %s", sidecar.Started, sidecar.Ready, app.Ready, describePod(pod))
	}
	if sidecar.State.Running == nil || app.State.Running == nil {
		t.Fatalf("not both running: %s", describePod(pod))
	}
	if app.State.Running.StartedAt.Before(&sidecar.State.Running.StartedAt) {
		t.Errorf("the app started at %s, before its sidecar at %s", app.State.Running.StartedAt, sidecar.State.Running.StartedAt)
	}

	// The sidecar's view of the app, from the node's side of the network,
	// against the app's own count read a moment later.
	metricsURL := localcluster.PodURL(pod, sidecarPort, sidecarconf.SidecarMetricsPath)
	samples := waitForSample(t, metricsURL, "go_goroutines from the app", func(s localcluster.Samples) bool {
		return s.Has("go_goroutines") && s["gopherscope_target_up"] == 1
	})
	self := appSelf(t, pod)
	if d := math.Abs(samples["go_goroutines"] - float64(self.Goroutines)); d > 10 {
		t.Errorf("the sidecar reports go_goroutines %v, the app counts %d itself (more than ±10 apart)", samples["go_goroutines"], self.Goroutines)
	}

	// The probes keep passing: nothing restarted while the test looked.
	pod = e.waitPod(t, ns, "app=checkout", "Ready", localcluster.PodReady)
	for _, name := range []string{config.SidecarContainerName, "app"} {
		if s := statusOf(pod, name); s.RestartCount != 0 {
			t.Errorf("%s restarted %d times: %s", name, s.RestartCount, describePod(pod))
		}
	}
}

// selfReport is the part of the demo app's GET /self the tests read.
type selfReport struct {
	Goroutines int `json:"goroutines"`
	PID        int `json:"pid"`
}

func appSelf(t *testing.T, pod *corev1.Pod) selfReport {
	t.Helper()
	body, err := localcluster.Get(t.Context(), localcluster.PodURL(pod, demoAppPort, "/self"))
	if err != nil {
		t.Fatalf("ask the app for its own numbers: %v", err)
	}
	var s selfReport
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("decode /self: %v", err)
	}
	return s
}

func TestNodeJobWithInjectedSidecarCompletes(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-job", injectEnabled)
	zero := int32(0)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "report", Namespace: ns},
		Spec: batchv1.JobSpec{
			BackoffLimit: &zero,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "report"}},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					Containers:    []corev1.Container{e.demoContainer("--exit-after=5s")},
				},
			},
		},
	}
	if _, err := e.client.BatchV1().Jobs(ns).Create(t.Context(), job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := e.waitPod(t, ns, "app=report", "Succeeded", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
	})
	if pod.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("the Job's pod ended %s: %s", pod.Status.Phase, describePod(pod))
	}
	if sc := sidecarOf(pod); sc == nil || sc.RestartPolicy == nil {
		t.Fatalf("the Job's pod has no native sidecar: %s", describePod(pod))
	}
	// The Job controller counts the pod after the kubelet reports it.
	stored := &batchv1.Job{}
	err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		job, err := e.client.BatchV1().Jobs(ns).Get(ctx, "report", metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // retried until the timeout
		}
		stored = job
		return job.Status.Succeeded > 0, nil
	})
	if err != nil {
		t.Errorf("the Job reports %d succeeded pods a minute after its pod succeeded, want 1: %v", stored.Status.Succeeded, err)
	} else if stored.Status.Succeeded != 1 {
		t.Errorf("the Job reports %d succeeded pods, want 1", stored.Status.Succeeded)
	}
}

func TestNodeRestrictedNamespaceRunsTheSidecarAsNonRootOnAReadOnlyRoot(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-restricted", map[string]string{
		config.KeyInject:                     config.InjectEnabled,
		"pod-security.kubernetes.io/enforce": "restricted",
	})
	pod := e.runDeployment(t, e.demoDeployment(ns, "restricted"))
	pid := containerPID(t, statusOf(pod, config.SidecarContainerName))

	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"Uid", "Gid"} {
		want := field + ":\t65532\t65532\t65532\t65532"
		if !strings.Contains(string(status), want+"\n") {
			t.Errorf("the sidecar's process %d: /proc status lacks %q:\n%s", pid, want, status)
		}
	}
	// Its root filesystem, seen through the process: even root may not write.
	err = os.WriteFile(filepath.Join(fmt.Sprintf("/proc/%d/root", pid), "written-by-e2e"), []byte("x"), 0o600)
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("writing into the sidecar's root filesystem: %v, want a read-only file system error", err)
	}
}

func TestNodeKubeletRestartsAKilledSidecarWithinItsMemoryLimit(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-kill", injectEnabled)
	pod := e.runDeployment(t, e.demoDeployment(ns, "killed"))
	sidecar, app := statusOf(pod, config.SidecarContainerName), statusOf(pod, "app")

	want := sidecarOf(pod).Resources.Limits.Memory().Value()
	if got := memoryLimit(t, sidecar); got != want {
		t.Errorf("the sidecar's cgroup memory limit is %d bytes, the injector set %d", got, want)
	}
	appPID := containerPID(t, app)
	if err := syscall.Kill(containerPID(t, sidecar), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	pod = e.waitPod(t, ns, "app=killed", "Ready with the sidecar restarted", func(p *corev1.Pod) bool {
		return statusOf(p, config.SidecarContainerName).RestartCount >= 1 && localcluster.PodReady(p)
	})
	if got := statusOf(pod, "app"); got.RestartCount != 0 || got.ContainerID != app.ContainerID {
		t.Errorf("the app restarted with its sidecar: %s", describePod(pod))
	}
	if self := appSelf(t, pod); self.PID == 0 || containerPID(t, statusOf(pod, "app")) != appPID {
		t.Errorf("the app's process changed after the sidecar was killed")
	}
	waitForSample(t, localcluster.PodURL(pod, sidecarPort, sidecarconf.SidecarMetricsPath), "the restarted sidecar's samples", func(s localcluster.Samples) bool {
		return s["gopherscope_target_up"] == 1 && s.Has("go_goroutines")
	})
}

func TestNodeSidecarKeepsServingThroughAnAppCrash(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-crash", injectEnabled)
	pod := e.runDeployment(t, e.demoDeployment(ns, "crashy", "--alloc-rate=1MiB/s"))
	sidecar := statusOf(pod, config.SidecarContainerName)
	metricsURL := localcluster.PodURL(pod, sidecarPort, sidecarconf.SidecarMetricsPath)
	waitForSample(t, metricsURL, "the app's GC count", func(s localcluster.Samples) bool {
		return s["go_gc_duration_seconds_count"] > 0
	})
	watch := watchCounters(t, metricsURL, 300*time.Millisecond)
	if _, err := localcluster.Do(t.Context(), "POST", localcluster.PodURL(pod, demoAppPort, "/exit?code=3")); err != nil {
		t.Fatalf("crash the app: %v", err)
	}
	pod = e.waitPod(t, ns, "app=crashy", "Ready with the app restarted", func(p *corev1.Pod) bool {
		return statusOf(p, "app").RestartCount >= 1 && localcluster.PodReady(p)
	})
	if last := statusOf(pod, "app").LastTerminationState.Terminated; last == nil || last.ExitCode != 3 {
		t.Errorf("the app's last termination: %+v, want exit code 3", last)
	}
	waitForSample(t, metricsURL, "the app's restart", func(s localcluster.Samples) bool {
		return s["gopherscope_target_restarts_total"] >= 1 && s["gopherscope_target_up"] == 1
	})
	watch.check(t, 5)
	if got := statusOf(pod, config.SidecarContainerName); got.RestartCount != 0 || got.ContainerID != sidecar.ContainerID {
		t.Errorf("the sidecar restarted with the app: %s", describePod(pod))
	}
}
