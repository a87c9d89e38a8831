//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// How the sidecar's start gates the app's on the real node: a native
// sidecar's startup probe must pass before the app starts.

// deadDebugPort is a port nothing in the demo app's pod listens on.
const deadDebugPort = 7070

func TestNodeAppStartsAndIsReadyWhenItsDebugPortNeverOpens(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-dead-port", injectEnabled)
	d := e.demoDeployment(ns, "dead-port")
	d.Spec.Template.Annotations[config.AnnotationPort] = strconv.Itoa(deadDebugPort)
	pod := e.runDeployment(t, d)

	sidecar, app := statusOf(pod, config.SidecarContainerName), statusOf(pod, "app")
	if sidecar.Started == nil || !*sidecar.Started || sidecar.State.Running == nil || app.State.Running == nil || !app.Ready {
		t.Fatalf("want the sidecar started and the app running and Ready: %s", describePod(pod))
	}
	if app.State.Running.StartedAt.Before(&sidecar.State.Running.StartedAt) {
		t.Errorf("the app started at %s, before its sidecar at %s", app.State.Running.StartedAt, sidecar.State.Running.StartedAt)
	}
	if got := sidecarOf(pod).Args; !slices.Contains(got, "--"+sidecarconf.FlagTargetPorts+"="+strconv.Itoa(deadDebugPort)) {
		t.Fatalf("the sidecar does not target port %d: %q", deadDebugPort, got)
	}

	// The sidecar serves, and says the app is not there.
	if _, err := localcluster.Get(t.Context(), localcluster.PodURL(pod, sidecarPort, sidecarconf.SidecarHealthzPath)); err != nil {
		t.Errorf("the sidecar's /healthz: %v", err)
	}
	_, err := localcluster.Get(t.Context(), localcluster.PodURL(pod, sidecarPort, sidecarconf.SidecarReadyzPath))
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("the sidecar's /readyz: %v; want 503 naming the refused connection to port %d", err, deadDebugPort)
	}
	samples := waitForSample(t, localcluster.PodURL(pod, sidecarPort, sidecarconf.SidecarMetricsPath), "the target reported down", func(s localcluster.Samples) bool {
		return s.Has("gopherscope_target_up")
	})
	if samples["gopherscope_target_up"] != 0 || samples.Has("go_goroutines") {
		t.Errorf("gopherscope_target_up = %v, go_goroutines present: %v; want 0 and absent", samples["gopherscope_target_up"], samples.Has("go_goroutines"))
	}

	// The kubelet gave the sidecar its own memory limit, from which it set
	// its soft limit.
	limit := sidecarOf(pod).Resources.Limits.Memory().Value()
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", containerPID(t, sidecar)))
	if err != nil {
		t.Fatal(err)
	}
	if want := sidecarconf.EnvMemoryLimit + "=" + strconv.FormatInt(limit, 10); !slices.Contains(strings.Split(string(environ), "\x00"), want) {
		t.Errorf("the sidecar's environment lacks %s", want)
	}

	// Nothing restarts while the app's debug port stays closed.
	time.Sleep(5 * time.Second)
	pod = e.waitPod(t, ns, "app=dead-port", "Ready", localcluster.PodReady)
	for _, name := range []string{config.SidecarContainerName, "app"} {
		if s := statusOf(pod, name); s.RestartCount != 0 {
			t.Errorf("%s restarted %d times: %s", name, s.RestartCount, describePod(pod))
		}
	}
}

func TestNodeSidecarImageThatCannotBePulledKeepsTheAppFromStartingUntilThePodOptsOut(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-no-pull", injectEnabled)
	d := e.demoDeployment(ns, "no-pull")
	d.Spec.Template.Annotations[config.AnnotationSidecarImage] = "gopherscope.invalid/sidecar:missing"
	if _, err := e.client.AppsV1().Deployments(ns).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pulling := func(p *corev1.Pod) bool {
		w := statusOf(p, config.SidecarContainerName).State.Waiting
		return w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff")
	}
	pod := e.waitPod(t, ns, "app=no-pull", "failing to pull its sidecar", pulling)
	// The app waits for its sidecar, however long that takes.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		pod = e.waitPod(t, ns, "app=no-pull", "listed", func(*corev1.Pod) bool { return true })
		if app := statusOf(pod, "app"); app.State.Running != nil || app.State.Terminated != nil || localcluster.PodReady(pod) {
			t.Fatalf("the app started although its sidecar's image cannot be pulled: %s", describePod(pod))
		}
		time.Sleep(time.Second)
	}
	if !pulling(pod) {
		t.Errorf("the sidecar is no longer failing to pull: %s", describePod(pod))
	}

	// What the README tells the user to do: opt the workload out.
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, config.KeyInject, config.InjectAnnotationFalse)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := e.client.AppsV1().Deployments(ns).Patch(ctx, "no-pull", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	pod = e.waitPod(t, ns, "app=no-pull", "Ready without a sidecar", func(p *corev1.Pod) bool {
		return sidecarOf(p) == nil && p.DeletionTimestamp == nil && localcluster.PodReady(p)
	})
	if _, ok := pod.Annotations[config.AnnotationStatus]; ok {
		t.Errorf("the opted-out pod carries %s: %s", config.AnnotationStatus, pod.Annotations[config.AnnotationStatus])
	}
}
