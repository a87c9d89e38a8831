package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// TestConfigFromCluster installs the chart into the local API server with a
// non-default injection config and injects a pod with --config-from-cluster:
// the output uses the chart's config, the sidecar kind is chosen from the
// server's version with the webhook's basis, and the help's kubectl line
// saves a config that gives the same output offline.
func TestConfigFromCluster(t *testing.T) {
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster := localcluster.StartForTest(t, root)
	if _, err := cluster.InstallChart(t.Context(), localcluster.ReleaseOptions{Values: map[string]any{
		"injection": map[string]any{"interval": "30s", "sidecar": map[string]any{"port": 9999}},
	}}); err != nil {
		t.Fatal(err)
	}
	const pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: x\n"
	kubeconfig := []string{"--kubeconfig", cluster.Kubeconfig()}

	t.Run("the chart's config and the server's version decide as the webhook does", func(t *testing.T) {
		code, stdout, stderr := run(t, pod, append([]string{"inject", "-f", "-", "--config-from-cluster"}, kubeconfig...)...)
		if code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
		}
		var got corev1.Pod
		mustUnmarshal(t, []byte(stdout), &got)
		status := statusOf(t, &got)
		if status.Port != 9999 {
			t.Errorf("sidecar port %d, want the chart's 9999", status.Port)
		}
		if !strings.HasPrefix(status.NativeBasis, "apiserver 1.") || !status.Native {
			t.Errorf("native %v on basis %q, want a native sidecar chosen from the API server's version", status.Native, status.NativeBasis)
		}
		if args := strings.Join(sidecarArgs(&got), " "); !strings.Contains(args, "--interval=30s") {
			t.Errorf("sidecar args %q, want the chart's --interval=30s", args)
		}
	})

	t.Run("the help's kubectl line saves a config that gives the same output", func(t *testing.T) {
		saved := filepath.Join(t.TempDir(), "injection.yaml")
		kubectl := exec.CommandContext(t.Context(), filepath.Join(root, "bin", "kubectl"), append(kubeconfig,
			"get", "configmap", defaultConfigMap, "-n", defaultConfigNamespace, "-o", `jsonpath={.data.config\.yaml}`)...)
		out, err := kubectl.Output()
		if err != nil {
			t.Fatalf("kubectl: %v", err)
		}
		if err := os.WriteFile(saved, out, 0o600); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(injectHelp, `-o jsonpath='{.data.config\.yaml}'`) || !strings.Contains(injectHelp, "kubectl get configmap "+defaultConfigMap+" -n "+defaultConfigNamespace) {
			t.Errorf("the help does not document the kubectl line this test runs")
		}
		_, fromCluster, stderr := run(t, pod, append([]string{"inject", "-f", "-", "--config-from-cluster", "--kube-version", "1.33"}, kubeconfig...)...)
		code, fromFile, _ := run(t, pod, "inject", "-f", "-", "--config", saved, "--kube-version", "1.33")
		if code != 0 || fromCluster == "" {
			t.Fatalf("exit code %d; stderr of --config-from-cluster:\n%s", code, stderr)
		}
		if diff := cmp.Diff(fromCluster, fromFile); diff != "" {
			t.Errorf("--config-from-cluster and --config of the saved file differ (-cluster +file):\n%s", diff)
		}
	})

	t.Run("a missing ConfigMap is an input error that names it", func(t *testing.T) {
		code, stdout, stderr := run(t, pod, append([]string{"inject", "-f", "-", "--config-from-cluster", "--config-namespace", "elsewhere"}, kubeconfig...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "read ConfigMap elsewhere/"+defaultConfigMap) {
			t.Errorf("exit code %d, stdout %q, stderr %q; want 2, nothing, and the ConfigMap named", code, stdout, stderr)
		}
	})
}

// statusOf decodes the pod's status annotation.
func statusOf(t *testing.T, pod *corev1.Pod) (status struct {
	Native      bool   `json:"native"`
	NativeBasis string `json:"nativeBasis"`
	Port        int    `json:"port"`
}) {
	t.Helper()
	if err := json.Unmarshal([]byte(pod.Annotations[config.AnnotationStatus]), &status); err != nil {
		t.Fatalf("status annotation %q: %v", pod.Annotations[config.AnnotationStatus], err)
	}
	return status
}

// sidecarArgs are the injected sidecar's arguments.
func sidecarArgs(pod *corev1.Pod) []string {
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if c.Name == config.SidecarContainerName {
			return c.Args
		}
	}
	return nil
}
