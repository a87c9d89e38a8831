//go:build e2e && operator

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// The prometheus-operator's own module, built by `make e2e-operator` (its
// build is too long for `make test`: see BENCHMARKS.md).
const operatorModule = "github.com/prometheus-operator/prometheus-operator"

// TestNodeOperatorPodMonitorScrapesEachSidecarOnce: the chart's PodMonitor
// and PrometheusRule, turned into a Prometheus configuration by the
// prometheus-operator itself, make a real Prometheus scrape each injected
// pod's sidecar once, the pod whose own prometheus.io/* annotations point at
// its app included, and load the chart's rules.
func TestNodeOperatorPodMonitorScrapesEachSidecarOnce(t *testing.T) {
	e := realNode(t)
	kubectl(t, e, nil, "apply", "--server-side", "-f", operatorCRDs(t))
	kubectl(t, e, nil, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
	startOperator(t, e)

	// The chart's PodMonitor (narrowed to this test's namespace, as its
	// values allow) and PrometheusRule, as a release with them on renders them.
	ns := e.namespace(t, "node-operator", injectEnabled)
	renderer, err := chart.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	monitoring, err := renderer.Template(t.Context(), e.release.Name, e.release.Namespace, map[string]any{
		"metrics": map[string]any{
			"podMonitor": map[string]any{
				"enabled": true, "interval": "2s", "scrapeTimeout": "1s",
				"namespaceSelector": map[string]any{"any": false, "matchNames": []string{ns}},
			},
			"prometheusRule": map[string]any{"enabled": true},
		},
	}, "--show-only=templates/podmonitor.yaml", "--show-only=templates/prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, e, monitoring, "apply", "-f", "-")
	t.Cleanup(func() { kubectlQuiet(e, monitoring, "delete", "--ignore-not-found", "-f", "-") })

	plain := e.demoDeployment(ns, "plain")
	plainPod, ownPod := e.runDeployment(t, plain), e.runDeployment(t, e.ownScrapeDeployment(ns))

	cfg, rules := operatorConfig(t, e)
	prom, err := localcluster.StartPrometheus(t.Context(), localcluster.PrometheusOptions{
		RepoRoot: repoRoot, Dir: t.TempDir(), Config: cfg, Rules: rules,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = prom.Stop() })

	job := fmt.Sprintf("podMonitor/%s/%s-sidecars/0", e.release.Namespace, e.release.Name)
	targets := waitTargetsUp(t, prom, job, plainPod, ownPod)
	for _, pod := range []*corev1.Pod{plainPod, ownPod} {
		if u := targets[pod.Name].ScrapeURL; u != localcluster.PodURL(pod, sidecarPort, "/metrics") {
			t.Errorf("the PodMonitor scrapes %s at %s, want its sidecar's %s", pod.Name, u, localcluster.PodURL(pod, sidecarPort, "/metrics"))
		}
	}
	// The rules evaluate on what it scrapes; the sidecar-down alert watches
	// the PodMonitor's job.
	time.Sleep(5 * time.Second)
	checkRulesHealthy(t, prom)
	series, err := prom.Query(t.Context(), fmt.Sprintf(`namespace_pod:go_goroutines:max{namespace=%q}`, ns))
	if err != nil || len(series) != 2 {
		t.Errorf("recording rule namespace_pod:go_goroutines:max: %v (%v), want a series for each pod", series, err)
	}
}

// operatorCRDs is the directory of the operator's CRDs in its module.
func operatorCRDs(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", operatorModule)
	cmd.Dir = filepath.Join(repoRoot, "hack", "tools", "prometheus-operator")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("find the operator's module (make e2e-operator downloads it): %v\n%s", err, out)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "example", "prometheus-operator-crd")
}

// startOperator runs bin/prometheus-operator against the node's API server,
// stopped when t ends.
func startOperator(t *testing.T, e *nodeEnv) {
	t.Helper()
	port, err := localcluster.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	// The operator takes no kubeconfig, only the API server's address and
	// the files of the admin's.
	kc, err := clientcmd.LoadFromFile(e.cluster.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	kctx := kc.Contexts[kc.CurrentContext]
	cluster, user := kc.Clusters[kctx.Cluster], kc.AuthInfos[kctx.AuthInfo]
	dir := t.TempDir()
	p, err := localcluster.StartProcess(localcluster.ProcessOptions{
		Name: "prometheus-operator", Path: filepath.Join(repoRoot, "bin", "prometheus-operator"), LogDir: dir,
		Args: []string{
			"--apiserver=" + cluster.Server, "--ca-file=" + cluster.CertificateAuthority,
			"--cert-file=" + user.ClientCertificate, "--key-file=" + user.ClientKey,
			"--web.listen-address=127.0.0.1:" + strconv.Itoa(port), "--log-level=info",
		},
		Env: []string{"HOME=" + dir},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(p.LogTail(30))
		}
		_ = p.Stop()
	})
	if err := p.WaitReady(t.Context(), "http://127.0.0.1:"+strconv.Itoa(port)+"/healthz", time.Minute); err != nil {
		t.Fatal(err)
	}
}

// operatorConfig creates a Prometheus resource that selects every PodMonitor
// and PrometheusRule and returns the configuration and rules the operator
// writes for it, with its pod discovery pointed at the node's API server
// (the operator writes it for a Prometheus pod, which uses its service
// account instead).
func operatorConfig(t *testing.T, e *nodeEnv) (map[string]any, map[string]any) {
	t.Helper()
	name := "e2e"
	resource := fmt.Sprintf(`{"apiVersion":"monitoring.coreos.com/v1","kind":"Prometheus","metadata":{"name":%q,"namespace":%q},
"spec":{"replicas":0,"scrapeInterval":"2s","evaluationInterval":"1s",
"podMonitorSelector":{},"podMonitorNamespaceSelector":{},"ruleSelector":{},"ruleNamespaceSelector":{}}}`, name, e.release.Namespace)
	kubectl(t, e, []byte(resource), "apply", "-f", "-")
	t.Cleanup(func() { kubectlQuiet(e, []byte(resource), "delete", "--ignore-not-found", "-f", "-") })

	var cfg map[string]any
	var rules map[string]any
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		secret, err := e.client.CoreV1().Secrets(e.release.Namespace).Get(ctx, "prometheus-"+name, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // not written yet
		}
		if cfg, err = gunzipYAML(secret.Data["prometheus.yaml.gz"]); err != nil {
			return false, err
		}
		cm, err := e.client.CoreV1().ConfigMaps(e.release.Namespace).Get(ctx, "prometheus-"+name+"-rulefiles-0", metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // not written yet
		}
		rules, err = mergedRuleFiles(cm)
		return err == nil && hasPodMonitorJob(cfg), err
	})
	if err != nil {
		t.Fatalf("the operator wrote no configuration with the PodMonitor's job for Prometheus %s: %v (have %v)", name, err, cfg)
	}
	jobs, _ := cfg["scrape_configs"].([]any)
	for _, job := range jobs {
		for _, sd := range job.(map[string]any)["kubernetes_sd_configs"].([]any) {
			sd.(map[string]any)["kubeconfig_file"] = e.cluster.Kubeconfig()
		}
	}
	delete(cfg, "rule_files") // StartPrometheus points it at rules
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := yaml.Marshal(cfg)
			t.Logf("the operator's configuration, as run:\n%s", out)
		}
	})
	return cfg, rules
}

func hasPodMonitorJob(cfg map[string]any) bool {
	jobs, _ := cfg["scrape_configs"].([]any)
	for _, job := range jobs {
		if m, ok := job.(map[string]any); ok && strings.HasPrefix(fmt.Sprint(m["job_name"]), "podMonitor/") {
			return true
		}
	}
	return false
}

func gunzipYAML(data []byte) (map[string]any, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	// What the operator's config-reloader does in a Prometheus pod: expand
	// $(POD_NAME) and $(SHARD) (the only shard, 0); unexpanded, the sharding
	// rule keeps no target.
	expanded := strings.NewReplacer("$(SHARD)", "0", "$(POD_NAME)", "prometheus-e2e-0").Replace(string(raw))
	var out map[string]any
	return out, yaml.Unmarshal([]byte(expanded), &out)
}

// mergedRuleFiles joins the groups of every rule file the operator wrote.
func mergedRuleFiles(cm *corev1.ConfigMap) (map[string]any, error) {
	var groups []any
	for key, data := range cm.Data {
		var file struct {
			Groups []any `json:"groups"`
		}
		if err := yaml.Unmarshal([]byte(data), &file); err != nil {
			return nil, fmt.Errorf("rule file %s: %w", key, err)
		}
		groups = append(groups, file.Groups...)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("the operator's rule files hold no groups: %v", cm.Data)
	}
	return map[string]any{"groups": groups}, nil
}

// kubectl runs the node's kubectl as its admin, with stdin, and fails t on error.
func kubectl(t *testing.T, e *nodeEnv, stdin []byte, args ...string) {
	t.Helper()
	if out, err := runKubectl(e, stdin, args...); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// kubectlQuiet runs kubectl for a cleanup, whose failure the test's own
// namespace deletion covers.
func kubectlQuiet(e *nodeEnv, stdin []byte, args ...string) { _, _ = runKubectl(e, stdin, args...) }

func runKubectl(e *nodeEnv, stdin []byte, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.cluster.Kubectl(), append([]string{"--kubeconfig=" + e.cluster.Kubeconfig()}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append(os.Environ(), "HOME="+e.cluster.RunDir())
	return cmd.CombinedOutput()
}
