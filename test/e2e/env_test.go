//go:build e2e

package e2e

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// env is a local control plane with the chart installed and the webhook
// running as a local process.
type env struct {
	cluster *localcluster.Cluster
	client  kubernetes.Interface
	release *localcluster.Release
	webhook *localcluster.Webhook
	workDir string
}

// startEnv starts an env for t with the given chart values (merged over
// the out-of-cluster ones) and stops it when t ends. On failure the webhook
// log is kept in t's output.
func startEnv(t *testing.T, values map[string]any) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	workDir := t.TempDir()
	cluster, err := localcluster.Start(ctx, localcluster.Options{RepoRoot: repoRoot, WorkDir: workDir, Logf: t.Logf})
	if err != nil {
		t.Fatalf("start the local control plane: %v", err)
	}
	e := &env{cluster: cluster, client: cluster.Client(), workDir: workDir}
	t.Cleanup(func() {
		var errs []error
		if e.webhook != nil {
			if t.Failed() {
				t.Log(e.webhook.LogTail(40))
			}
			errs = append(errs, e.webhook.Stop())
		}
		errs = append(errs, cluster.Stop())
		if err := errors.Join(errs...); err != nil {
			t.Errorf("stop the env: %v", err)
		}
	})
	if e.release, err = cluster.InstallChart(ctx, localcluster.ReleaseOptions{Values: values}); err != nil {
		t.Fatalf("install the chart: %v", err)
	}
	if e.webhook, err = cluster.StartWebhook(ctx, e.release, bins["webhook"]); err != nil {
		t.Fatalf("start the webhook: %v", err)
	}
	return e
}

// namespace creates a namespace with a name derived from prefix and the
// given labels, and deletes it and its pods when t ends. (Without a
// controller-manager the namespace then stays Terminating; its pods are
// deleted here so nothing is left behind in it.)
func (e *env) namespace(t *testing.T, prefix string, labels map[string]string) string {
	t.Helper()
	ns, err := e.client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-", Labels: labels},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", prefix, err)
	}
	t.Cleanup(func() { e.deleteNamespace(t, ns.Name) })
	return ns.Name
}

func (e *env) deleteNamespace(t *testing.T, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.client.CoreV1().Pods(name).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		t.Errorf("delete the pods of namespace %s: %v", name, err)
	}
	if err := e.client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete namespace %s: %v", name, err)
	}
}

// create creates pod and returns what the API server stored.
func (e *env) create(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	stored, err := e.client.CoreV1().Pods(pod.Namespace).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	return stored
}

// deletePod deletes a pod created outside the test's namespaces.
func (e *env) deletePod(t *testing.T, pod *corev1.Pod) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("delete pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

// injectionsTotal is the sum of the webhook's gopherscope_injections_total:
// how many admission requests it has decided on.
func (e *env) injectionsTotal(t *testing.T) float64 {
	t.Helper()
	samples, err := localcluster.Scrape(t.Context(), e.webhook.MetricsURL)
	if err != nil {
		t.Fatalf("scrape the webhook: %v", err)
	}
	if !samples.Has("gopherscope_injections_total") {
		t.Fatalf("the webhook's %s has no gopherscope_injections_total", e.webhook.MetricsURL)
	}
	return samples.Sum("gopherscope_injections_total")
}

// sidecarImage is the image the chart configures by default:
// ghcr.io/gopherscope/sidecar and the chart's appVersion.
func sidecarImage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "charts", "gopherscope", "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(b, &chart); err != nil || chart.AppVersion == "" {
		t.Fatalf("read appVersion from Chart.yaml: %v", err)
	}
	return "ghcr.io/gopherscope/sidecar:" + strings.TrimSpace(chart.AppVersion)
}

// sidecarOf returns the injected native sidecar of pod, or nil.
func sidecarOf(pod *corev1.Pod) *corev1.Container {
	for i, c := range pod.Spec.InitContainers {
		if c.Name == config.SidecarContainerName {
			return &pod.Spec.InitContainers[i]
		}
	}
	for i, c := range pod.Spec.Containers {
		if c.Name == config.SidecarContainerName {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}
