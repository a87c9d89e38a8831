package chart_test

import (
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
