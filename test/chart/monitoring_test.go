package chart_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestMonitorsAreOptional(t *testing.T) {
	m := render(t, nil)
	for _, name := range []string{"ServiceMonitor/" + fullname, "PodMonitor/" + fullname + "-sidecars", "ConfigMap/" + fullname + "-dashboard"} {
		if has(m, name) {
			t.Errorf("default values render %s", name)
		}
	}
}

func TestServiceMonitorScrapesTheWebhookService(t *testing.T) {
	m := render(t, values("metrics.serviceMonitor.enabled", true, "metrics.serviceMonitor.labels", map[string]any{"release": "prom"}))
	sm, err := m.GetUnstructured("ServiceMonitor", fullname)
	if err != nil {
		t.Fatal(err)
	}
	if sm.GetAPIVersion() != "monitoring.coreos.com/v1" || sm.GetNamespace() != namespace || sm.GetLabels()["release"] != "prom" {
		t.Errorf("ServiceMonitor %s in %q with labels %v", sm.GetAPIVersion(), sm.GetNamespace(), sm.GetLabels())
	}
	svc := get[*corev1.Service](t, m, fullname)
	selector, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	for k, v := range selector {
		if svc.Labels[k] != v {
			t.Errorf("ServiceMonitor selects %s=%s, the Service has %q", k, v, svc.Labels[k])
		}
	}
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	if len(endpoints) != 1 {
		t.Fatalf("%d endpoints, want 1", len(endpoints))
	}
	port := endpoints[0].(map[string]any)["port"]
	if !slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Name == port }) {
		t.Errorf("ServiceMonitor scrapes port %v, which the Service does not have", port)
	}
	if has(render(t, values("metrics.serviceMonitor.enabled", true, "webhook.url", "https://127.0.0.1:1/x", "tls.ipAddresses", []string{"127.0.0.1"})), "ServiceMonitor/"+fullname) {
		t.Error("an out-of-cluster webhook has no Service, yet a ServiceMonitor is rendered")
	}
}

// sidecarVersionExists is the PodMonitor's requirement that a pod is injected.
var sidecarVersionExists = map[string]any{"key": config.LabelSidecarVersion, "operator": "Exists"}

func TestPodMonitorScrapesEveryInjectedPodBySidecarVersionLabel(t *testing.T) {
	m := render(t, values("metrics.podMonitor.enabled", true))
	pm, err := m.GetUnstructured("PodMonitor", fullname+"-sidecars")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"selector":          map[string]any{"matchExpressions": []any{sidecarVersionExists}},
		"namespaceSelector": map[string]any{"any": true},
		"podMetricsEndpoints": []any{map[string]any{
			"port": config.SidecarPortName, "path": sidecarconf.SidecarMetricsPath, "interval": "30s", "scrapeTimeout": "10s",
		}},
	}
	if diff := cmp.Diff(want, pm.Object["spec"]); diff != "" {
		t.Errorf("PodMonitor spec (-want +got):\n%s", diff)
	}
}

func TestPodMonitorKeepsTheUsersSelectorNextToTheSidecarVersionLabel(t *testing.T) {
	team := map[string]any{"key": "team", "operator": "In", "values": []any{"a", "b"}}
	m := render(t, values("metrics.podMonitor.enabled", true,
		"metrics.podMonitor.selector", map[string]any{"matchLabels": map[string]any{"app": "web"}, "matchExpressions": []any{team}}))
	pm, err := m.GetUnstructured("PodMonitor", fullname+"-sidecars")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"matchLabels": map[string]any{"app": "web"}, "matchExpressions": []any{sidecarVersionExists, team}}
	if diff := cmp.Diff(want, pm.Object["spec"].(map[string]any)["selector"]); diff != "" {
		t.Errorf("PodMonitor selector (-want +got):\n%s", diff)
	}
}

// normalizedMetric matches the metric names the sidecar exposes (DESIGN.md, "Sidecar").
var normalizedMetric = regexp.MustCompile(`^(go_goroutines|go_threads|go_memstats_[a-z_]+|go_gc_duration_seconds(_count|_sum)?|go_info|go_sched_gomaxprocs_threads|go_gc_gogc_percent|go_gc_gomemlimit_bytes|gopherscope_[a-z_]+)$`)

func TestGrafanaDashboardQueriesTheNormalizedNames(t *testing.T) {
	m := render(t, values("dashboard.enabled", true, "dashboard.namespace", "monitoring"))
	cm := get[*corev1.ConfigMap](t, m, fullname+"-dashboard")
	if cm.Namespace != "monitoring" || cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap in %q with labels %v, want namespace monitoring and grafana_dashboard=1", cm.Namespace, cm.Labels)
	}
	if len(cm.Data) != 1 {
		t.Fatalf("dashboard ConfigMap has %d keys, want 1", len(cm.Data))
	}
	var dashboard struct {
		UID        string `json:"uid"`
		Title      string `json:"title"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Type    string `json:"type"`
			GridPos *struct {
				X, Y, W, H int
			} `json:"gridPos"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
	}
	for _, data := range cm.Data {
		if err := json.Unmarshal([]byte(data), &dashboard); err != nil {
			t.Fatalf("the dashboard is not valid JSON: %v", err)
		}
	}
	if dashboard.UID == "" || dashboard.Title == "" {
		t.Errorf("dashboard uid %q, title %q: both are needed for provisioning", dashboard.UID, dashboard.Title)
	}
	var variables []string
	for _, v := range dashboard.Templating.List {
		variables = append(variables, v.Name)
	}
	if diff := cmp.Diff([]string{"datasource", "namespace", "pod"}, variables); diff != "" {
		t.Errorf("template variables (-want +got):\n%s", diff)
	}
	metricName := regexp.MustCompile(`[a-z_]+\{`)
	ids := map[int]bool{}
	var exprs []string
	for _, p := range dashboard.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type != "timeseries" || p.GridPos == nil || len(p.Targets) == 0 {
			t.Errorf("panel %q: type %q, gridPos %v, %d targets", p.Title, p.Type, p.GridPos, len(p.Targets))
		}
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
			for _, name := range metricName.FindAllString(target.Expr, -1) {
				if name = name[:len(name)-1]; !normalizedMetric.MatchString(name) {
					t.Errorf("panel %q queries %s, which the sidecar does not expose", p.Title, name)
				}
			}
		}
	}
	for _, want := range []string{
		`go_goroutines{namespace=~"$namespace", pod=~"$pod"}`,
		`go_memstats_heap_inuse_bytes{namespace=~"$namespace", pod=~"$pod"}`,
		`rate(go_memstats_alloc_bytes_total{namespace=~"$namespace", pod=~"$pod"}[5m])`,
		`go_gc_duration_seconds{namespace=~"$namespace", pod=~"$pod", quantile="0.5"}`,
		`gopherscope_target_up{namespace=~"$namespace", pod=~"$pod"}`,
	} {
		if !slices.Contains(exprs, want) {
			t.Errorf("no panel queries %s", want)
		}
	}
}
