//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// classicJob is the scrape job of the classic prometheus.io/* annotations,
// as Prometheus' own example configuration for Kubernetes writes it (pod
// discovery against our API server, limited to ns so that other tests' pods
// stay out of the count).
func classicJob(ns, kubeconfig string) map[string]any {
	return map[string]any{
		"job_name": "kubernetes-pods",
		"kubernetes_sd_configs": []any{map[string]any{
			"role": "pod", "kubeconfig_file": kubeconfig, "namespaces": map[string]any{"names": []string{ns}},
		}},
		"relabel_configs": []any{
			map[string]any{"source_labels": []string{"__meta_kubernetes_pod_annotation_prometheus_io_scrape"}, "action": "keep", "regex": "true"},
			map[string]any{"source_labels": []string{"__meta_kubernetes_pod_annotation_prometheus_io_path"}, "action": "replace", "target_label": "__metrics_path__", "regex": "(.+)"},
			map[string]any{
				"source_labels": []string{"__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"},
				"action":        "replace", "regex": `([^:]+)(?::\d+)?;(\d+)`, "replacement": "$1:$2", "target_label": "__address__",
			},
			map[string]any{"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
			map[string]any{"source_labels": []string{"__meta_kubernetes_namespace"}, "action": "replace", "target_label": "namespace"},
			map[string]any{"source_labels": []string{"__meta_kubernetes_pod_name"}, "action": "replace", "target_label": "pod"},
		},
	}
}

// ownScrapeDeployment is the demo app serving client_golang's /metrics on
// its debug port, with prometheus.io/* annotations of its own that point
// there (which the webhook keeps), and gopherscope.io/metrics-path telling
// the sidecar to read the same endpoint.
func (e *nodeEnv) ownScrapeDeployment(ns string) *appsv1.Deployment {
	d := e.demoDeployment(ns, "own", "--mode=prometheus")
	maps.Copy(d.Spec.Template.Annotations, map[string]string{
		config.AnnotationPrometheusScrape: "true",
		config.AnnotationPrometheusPort:   strconv.Itoa(demoDebugPort),
		config.AnnotationPrometheusPath:   "/metrics",
		config.AnnotationMetricsPath:      "/metrics",
	})
	return d
}

// chartRules renders the chart's PrometheusRule with values and returns its
// groups as a Prometheus rule file: the alerts and recording rules the chart
// ships, as the prometheus-operator would load them.
func chartRules(t *testing.T, e *nodeEnv, values map[string]any) map[string]any {
	t.Helper()
	renderer, err := chart.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := renderer.Template(t.Context(), e.release.Name, e.release.Namespace, values)
	if err != nil {
		t.Fatal(err)
	}
	m, err := chart.Decode(manifest)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := m.GetUnstructured("PrometheusRule", e.release.Name)
	if err != nil {
		t.Fatal(err)
	}
	spec, ok := rule.Object["spec"].(map[string]any)
	if !ok {
		t.Fatalf("PrometheusRule has no spec: %v", rule.Object)
	}
	return spec
}

// startPrometheus runs a Prometheus that scrapes every 2 s and evaluates rules
// every second, stopped when t ends.
func startPrometheus(t *testing.T, rules map[string]any, jobs ...map[string]any) *localcluster.Prometheus {
	t.Helper()
	prom, err := localcluster.StartPrometheus(t.Context(), localcluster.PrometheusOptions{
		RepoRoot: repoRoot, Dir: t.TempDir(), Rules: rules,
		Config: map[string]any{
			"global":         map[string]any{"scrape_interval": "2s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
			"scrape_configs": jobs,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := prom.Stop(); err != nil {
			t.Errorf("stop prometheus: %v", err)
		}
	})
	return prom
}

// TestNodePrometheusScrapesSidecarsThroughTheirAnnotations: a real Prometheus
// with the classic prometheus.io/* relabelling finds each injected pod once,
// at its sidecar, and a pod with annotations of its own at its app; the
// chart's dashboard queries and rules work on what it scraped, and the leak
// alert goes pending, then firing.
func TestNodePrometheusScrapesSidecarsThroughTheirAnnotations(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-prom", injectEnabled)
	leaky := e.demoDeployment(ns, "leaky", "--leak-rate=20")
	leaky.Spec.Template.Annotations[config.AnnotationFindings] = "leak-window=5s,leak-windows=3,leak-min-growth=50"
	leakyPod, ownPod := e.runDeployment(t, leaky), e.runDeployment(t, e.ownScrapeDeployment(ns))

	rules := chartRules(t, e, map[string]any{"metrics": map[string]any{"prometheusRule": map[string]any{
		"enabled":           true,
		"sidecarUpSelector": `job="kubernetes-pods"`,
		"for":               map[string]any{"goroutineLeak": "15s"},
	}}})
	started := time.Now()
	prom := startPrometheus(t, rules, classicJob(ns, e.cluster.Kubeconfig()))

	targets := waitTargetsUp(t, prom, "kubernetes-pods", leakyPod, ownPod)
	if u := targets[leakyPod.Name].ScrapeURL; u != localcluster.PodURL(leakyPod, sidecarPort, "/metrics") {
		t.Errorf("the injected pod is scraped at %s, want its sidecar's %s", u, localcluster.PodURL(leakyPod, sidecarPort, "/metrics"))
	}
	if u := targets[ownPod.Name].ScrapeURL; u != localcluster.PodURL(ownPod, demoDebugPort, "/metrics") {
		t.Errorf("the pod with its own prometheus.io/* annotations is scraped at %s, want its app's %s", u, localcluster.PodURL(ownPod, demoDebugPort, "/metrics"))
	}

	waitAlertPendingThenFiring(t, prom, "GoroutineLeakSuspected", leakyPod)

	// A minute of scraping, then every query of the dashboard for the leaking
	// pod (its Active findings panel included), and every rule evaluated.
	if wait := time.Minute - time.Since(started); wait > 0 {
		time.Sleep(wait)
	}
	checkDashboardQueries(t, prom, ns, leakyPod.Name)
	checkRulesHealthy(t, prom)
}

// waitTargetsUp waits until the scrape pool of job has exactly one active
// target for each pod (and none other), each scraped with up == 1 (under the
// job label the target was given), and returns them by pod.
func waitTargetsUp(t *testing.T, prom *localcluster.Prometheus, job string, pods ...*corev1.Pod) map[string]localcluster.PromTarget {
	t.Helper()
	var last []localcluster.PromTarget
	var byPod map[string]localcluster.PromTarget
	var pools map[string]int
	err := wait.PollUntilContextTimeout(t.Context(), time.Second, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		all, err := prom.Targets(ctx)
		if err != nil {
			return false, err
		}
		last, byPod = nil, map[string]localcluster.PromTarget{}
		pools = map[string]int{}
		for _, tg := range all {
			pools[tg.ScrapePool]++
			if tg.ScrapePool == job {
				last = append(last, tg)
				byPod[tg.Labels["pod"]] = tg
			}
		}
		if len(last) != len(pods) || len(byPod) != len(pods) {
			return false, nil
		}
		for _, pod := range pods {
			tg, ok := byPod[pod.Name]
			if !ok || tg.Health != "up" || tg.Labels["namespace"] != pod.Namespace {
				return false, nil
			}
			up, err := prom.Query(ctx, fmt.Sprintf(`up{job=%q, namespace=%q, pod=%q}`, tg.Labels["job"], pod.Namespace, pod.Name))
			if err != nil || len(up) != 1 || up[0].Value != 1 {
				return false, nil //nolint:nilerr // not scraped yet
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("job %s: want exactly one target up for each of %d pods, have %s (targets of every pool: %v): %v\n%s", job, len(pods), describeTargets(last), pools, err, prom.LogTail(15))
	}
	return byPod
}

func describeTargets(targets []localcluster.PromTarget) string {
	if len(targets) == 0 {
		return "none"
	}
	var parts []string
	for _, tg := range targets {
		parts = append(parts, fmt.Sprintf("%s pod=%s health=%s %s", tg.ScrapeURL, tg.Labels["pod"], tg.Health, tg.LastError))
	}
	return strings.Join(parts, "; ")
}

// waitAlertPendingThenFiring waits for alert on pod to be seen pending, then
// firing.
func waitAlertPendingThenFiring(t *testing.T, prom *localcluster.Prometheus, alert string, pod *corev1.Pod) {
	t.Helper()
	var seen []string
	err := wait.PollUntilContextTimeout(t.Context(), 500*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		alerts, err := prom.Alerts(ctx)
		if err != nil {
			return false, err
		}
		for _, a := range alerts {
			if a.Labels["alertname"] != alert || a.Labels["pod"] != pod.Name {
				continue
			}
			if len(seen) == 0 || seen[len(seen)-1] != a.State {
				seen = append(seen, a.State)
			}
		}
		return slices.Contains(seen, "firing"), nil
	})
	if err != nil {
		t.Fatalf("alert %s for %s: states seen %v, want pending then firing: %v", alert, pod.Name, seen, err)
	}
	if seen[0] != "pending" {
		t.Errorf("alert %s for %s: states seen %v, want pending first", alert, pod.Name, seen)
	}
}

// checkDashboardQueries asks Prometheus every query of the chart's dashboard
// with its variables set to ns and pod: each must return a series, and each
// variable's label_values query must list its value.
func checkDashboardQueries(t *testing.T, prom *localcluster.Prometheus, ns, pod string) {
	t.Helper()
	d, err := chart.ReadDashboard()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"namespace": ns, "pod": pod}
	expand := func(expr string) string {
		return chart.VariableUse.ReplaceAllStringFunc(expr, func(use string) string {
			name := strings.Trim(use, "${}")
			if v, ok := vars[name]; ok {
				return v
			}
			return use
		})
	}
	for _, v := range d.Templating.List {
		selector, label, ok := chart.LabelValuesQuery(v.Definition)
		if !ok {
			continue
		}
		values, err := prom.LabelValues(t.Context(), label, expand(selector))
		if err != nil || !slices.Contains(values, vars[label]) {
			t.Errorf("variable %s: label_values(%s, %s) = %v (%v), want %s among them", v.Name, expand(selector), label, values, err, vars[label])
		}
	}
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			res, err := prom.Query(t.Context(), expand(target.Expr))
			switch {
			case err != nil:
				t.Errorf("panel %q, query %s: %v", p.Title, target.RefID, err)
			case len(res) == 0:
				t.Errorf("panel %q, query %s returns no series: %s", p.Title, target.RefID, expand(target.Expr))
			}
		}
	}
}

// checkRulesHealthy fails for every rule Prometheus could not evaluate.
func checkRulesHealthy(t *testing.T, prom *localcluster.Prometheus) {
	t.Helper()
	rules, err := prom.Rules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) == 0 {
		t.Fatal("Prometheus loaded no rules from the chart's PrometheusRule")
	}
	for _, r := range rules {
		if r.Health != "ok" {
			t.Errorf("%s rule %s: health %q, %s", r.Type, r.Name, r.Health, r.LastError)
		}
	}
}
