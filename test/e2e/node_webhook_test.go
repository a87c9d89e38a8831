//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/gopherscope/gopherscope/auditor"
	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// webhookDeployment is the chart's webhook Deployment.
func (e *nodeEnv) webhookDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	list, err := e.client.AppsV1().Deployments(e.release.Namespace).List(t.Context(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + e.release.Name + ",app.kubernetes.io/component=webhook"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("the release's webhook Deployment: %v (%d found)", err, len(list.Items))
	}
	return &list.Items[0]
}

// scaleWebhook scales the webhook Deployment and waits until that many of
// its pods are ready (and, for 0, until none is left).
func (e *nodeEnv) scaleWebhook(t *testing.T, replicas int32) {
	t.Helper()
	d := e.webhookDeployment(t)
	scale, err := e.client.AppsV1().Deployments(d.Namespace).GetScale(t.Context(), d.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale.Spec.Replicas = replicas
	if _, err := e.client.AppsV1().Deployments(d.Namespace).UpdateScale(t.Context(), d.Name, scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	selector := metav1.FormatLabelSelector(d.Spec.Selector)
	err = wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := e.client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil //nolint:nilerr // try again
		}
		ready := 0
		for i := range pods.Items {
			if localcluster.PodReady(&pods.Items[i]) {
				ready++
			}
		}
		return int32(ready) == replicas && int32(len(pods.Items)) == replicas, nil
	})
	if err != nil {
		t.Fatalf("scale the webhook to %d: %v", replicas, err)
	}
}

// webhookPod is the one running webhook pod.
func (e *nodeEnv) webhookPod(t *testing.T) *corev1.Pod {
	t.Helper()
	d := e.webhookDeployment(t)
	return e.waitPod(t, d.Namespace, metav1.FormatLabelSelector(d.Spec.Selector), "Ready", localcluster.PodReady)
}

func TestNodeWebhookScaledToZeroLetsPodsThroughAndTheAuditorNamesThem(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-down", injectEnabled)
	e.scaleWebhook(t, 0)
	restored := false
	t.Cleanup(func() {
		if !restored {
			e.scaleWebhook(t, 1)
		}
	})

	pod := e.runDeployment(t, e.demoDeployment(ns, "unguarded"))
	if sidecarOf(pod) != nil {
		t.Fatalf("a pod created with no webhook running was injected: %s", describePod(pod))
	}
	e.scaleWebhook(t, 1)
	restored = true

	metricsURL := localcluster.PodURL(e.webhookPod(t), 8080, "/metrics")
	waitForSample(t, metricsURL, "the auditor's count of "+ns, func(s localcluster.Samples) bool {
		return s[auditor.MetricUninjectedPods+`{namespace="`+ns+`"}`] == 1
	})
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		events, err := e.client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // try again
		}
		for _, ev := range events.Items {
			if ev.Reason == config.EventReasonSidecarMissing && ev.Regarding.Kind == "Deployment" && ev.Regarding.Name == "unguarded" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Errorf("no %s Event on Deployment %s/unguarded: %v", config.EventReasonSidecarMissing, ns, err)
	}
}

// kubectl runs bin/kubectl, of the cluster's version, as the admin.
func (e *nodeEnv) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), e.cluster.Kubectl(), append([]string{"--kubeconfig", e.cluster.Kubeconfig()}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String() + stderr.String()
}

func TestNodeKubectlLogsAndExecReachTheAppNotTheSidecar(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-kubectl", injectEnabled)
	pod := e.runDeployment(t, e.demoDeployment(ns, "inspect"))
	if got := pod.Annotations["kubectl.kubernetes.io/default-container"]; got != "app" {
		t.Errorf("default-container annotation %q, want app", got)
	}
	logs := e.kubectl(t, "logs", "-n", ns, pod.Name)
	if !strings.Contains(logs, "demo-app listening") {
		t.Errorf("kubectl logs without -c did not show the app's log:\n%s", logs)
	}
	// The app's image has /demo-app; the sidecar's has only /sidecar.
	out := e.kubectl(t, "exec", "-n", ns, pod.Name, "--", "/demo-app",
		"--address=127.0.0.1:0", "--debug-address=127.0.0.1:0", "--exit-after=100ms")
	if !strings.Contains(out, "demo-app listening") {
		t.Errorf("kubectl exec without -c did not run in the app container:\n%s", out)
	}
	if sc := e.kubectl(t, "logs", "-n", ns, pod.Name, "-c", config.SidecarContainerName); strings.Contains(sc, "demo-app listening") {
		t.Errorf("the sidecar's log holds the app's lines:\n%s", sc)
	}
}
