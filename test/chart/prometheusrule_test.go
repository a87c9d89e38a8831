package chart_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/test/chart"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// ruleGroups is the part of a PrometheusRule's spec (and of a Prometheus rules file) the
// tests read.
type ruleGroups struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []rule `json:"rules"`
	} `json:"groups"`
}

type rule struct {
	Alert       string            `json:"alert,omitempty"`
	Record      string            `json:"record,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// alerts returns the alerting rules, in order.
func (g ruleGroups) alerts() []rule {
	var out []rule
	for _, group := range g.Groups {
		for _, r := range group.Rules {
			if r.Alert != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// prometheusRule renders the chart with vals and returns the PrometheusRule, or nil when
// none is rendered.
func prometheusRule(t *testing.T, vals map[string]any) *unstructured.Unstructured {
	t.Helper()
	m := render(t, vals)
	if !has(m, "PrometheusRule/"+fullname) {
		return nil
	}
	pr, err := m.GetUnstructured("PrometheusRule", fullname)
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// groupsOf decodes a PrometheusRule's spec.
func groupsOf(t *testing.T, pr *unstructured.Unstructured) ruleGroups {
	t.Helper()
	data, err := yaml.Marshal(pr.Object["spec"])
	if err != nil {
		t.Fatal(err)
	}
	var g ruleGroups
	if err := yaml.UnmarshalStrict(data, &g); err != nil {
		t.Fatalf("PrometheusRule spec: %v", err)
	}
	return g
}

// promtoolPath returns $PROMTOOL or the repository's bin/promtool (built by `make tools`).
// Its absence fails the test: the rules' unit tests are part of `make test`.
func promtoolPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROMTOOL"); p != "" {
		return p
	}
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "bin", "promtool")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("promtool not found at %s (run `make tools` or set PROMTOOL): %v", p, err)
	}
	return p
}

func TestPrometheusRuleIsOptional(t *testing.T) {
	if pr := prometheusRule(t, nil); pr != nil {
		t.Error("default values render a PrometheusRule")
	}
	if pr := prometheusRule(t, values("metrics.podMonitor.enabled", true)); pr != nil {
		t.Error("enabling the PodMonitor renders a PrometheusRule too")
	}
}

func TestPrometheusRuleCarriesItsLabelsAndForDurations(t *testing.T) {
	pr := prometheusRule(t, values(
		"metrics.prometheusRule.enabled", true,
		"metrics.prometheusRule.labels", map[string]any{"release": "prom"},
		"metrics.prometheusRule.alertLabels", map[string]any{"team": "platform"},
		"metrics.prometheusRule.for", map[string]any{
			"goroutineLeak": "30s", "memoryNearLimit": "20s", "memoryNearLimitCritical": "10s",
			"gcPressure": "1m", "gomaxprocsAboveCPULimit": "2m", "appUnreachable": "3m",
		},
	))
	if pr == nil {
		t.Fatal("metrics.prometheusRule.enabled renders no PrometheusRule")
	}
	if pr.GetAPIVersion() != "monitoring.coreos.com/v1" || pr.GetNamespace() != namespace || pr.GetLabels()["release"] != "prom" {
		t.Errorf("PrometheusRule %s in %q with labels %v", pr.GetAPIVersion(), pr.GetNamespace(), pr.GetLabels())
	}
	type got struct{ Alert, For, Severity, Team string }
	var alerts []got
	for _, a := range groupsOf(t, pr).alerts() {
		alerts = append(alerts, got{a.Alert, a.For, a.Labels["severity"], a.Labels["team"]})
	}
	// No PodMonitor and no sidecarUpSelector: nothing tells which `up` is the sidecars'.
	want := []got{
		{"GoroutineLeakSuspected", "30s", "", "platform"},
		{"GoMemoryNearLimit", "20s", "warning", "platform"},
		{"GoMemoryNearLimit", "10s", "", "platform"},
		{"GCPressure", "1m", "", "platform"},
		{"GOMAXPROCSAboveCPULimit", "2m", "", "platform"},
		{"GopherscopeAppUnreachable", "3m", "warning", "platform"},
	}
	if diff := cmp.Diff(want, alerts); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}
}

func TestSidecarDownAlertSelectsTheSidecarsScrapeJob(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   string // the alert's expr; "" for no alert
	}{
		{
			name:   "the PodMonitor's job, named namespace/name by prometheus-operator",
			values: values("metrics.prometheusRule.enabled", true, "metrics.podMonitor.enabled", true),
			want:   `up{job="` + namespace + "/" + fullname + `-sidecars"} == 0`,
		},
		{
			name: "the user's selector wins over the PodMonitor's job",
			values: values("metrics.prometheusRule.enabled", true, "metrics.podMonitor.enabled", true,
				"metrics.prometheusRule.sidecarUpSelector", `job="kubernetes-pods", container="gopherscope-sidecar"`),
			want: `up{job="kubernetes-pods", container="gopherscope-sidecar"} == 0`,
		},
		{
			name:   "without a PodMonitor or a selector there is no such alert",
			values: values("metrics.prometheusRule.enabled", true),
		},
		{
			name: "a disabled alert is not rendered",
			values: values("metrics.prometheusRule.enabled", true, "metrics.podMonitor.enabled", true,
				"metrics.prometheusRule.disabledAlerts", []string{"GopherscopeSidecarDown"}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			for _, a := range groupsOf(t, prometheusRule(t, tc.values)).alerts() {
				if a.Alert == "GopherscopeSidecarDown" {
					got = a.Expr
				}
			}
			if got != tc.want {
				t.Errorf("GopherscopeSidecarDown expr = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPrometheusRuleValuesAreChecked(t *testing.T) {
	tests := []struct {
		name  string
		path  string // under metrics.prometheusRule
		value any
		want  string
	}{
		{name: "a for that is no duration", path: "for.goroutineLeak", value: "soon", want: "/metrics/prometheusRule/for/goroutineLeak"},
		{name: "a Go duration Prometheus does not read", path: "for.gcPressure", value: "1.5m", want: "/metrics/prometheusRule/for/gcPressure"},
		{name: "units smallest first", path: "for.gcPressure", value: "30s1m", want: "/metrics/prometheusRule/for/gcPressure"},
		{name: "an empty for", path: "for.memoryNearLimit", value: "", want: "/metrics/prometheusRule/for/memoryNearLimit"},
		{name: "a for as a number", path: "for.appUnreachable", value: 600, want: "/metrics/prometheusRule/for/appUnreachable"},
		{name: "an unknown for", path: "for.leak", value: "1m", want: "'leak' not allowed"},
		{name: "enabled as a string", path: "enabled", value: "yes", want: "/metrics/prometheusRule/enabled"},
		{name: "recording rules as a string", path: "recordingRules", value: "on", want: "/metrics/prometheusRule/recordingRules"},
		{name: "labels as a list", path: "labels", value: []string{"release=prom"}, want: "/metrics/prometheusRule/labels"},
		{name: "an alert label that is not a label name", path: "alertLabels", value: map[string]any{"team-name": "a"}, want: "/metrics/prometheusRule/alertLabels': additional properties 'team-name' not allowed"},
		{name: "an unknown alert to disable", path: "disabledAlerts", value: []string{"GoroutineLeak"}, want: "/metrics/prometheusRule/disabledAlerts/0"},
		{name: "a selector with its braces", path: "sidecarUpSelector", value: `{job="x"}`, want: "/metrics/prometheusRule/sidecarUpSelector"},
	}
	r := newRenderer(t)
	for _, tc := range tests {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			vals := values("metrics.prometheusRule.enabled", true, "metrics.prometheusRule."+tc.path, tc.value)
			out, err := r.Template(t.Context(), release, namespace, vals)
			if err == nil {
				t.Fatalf("helm template succeeded, want an error; rendered %d bytes", len(out))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	good := values("metrics.prometheusRule.enabled", true, "metrics.prometheusRule.for.goroutineLeak", "1h30m",
		"metrics.prometheusRule.for.sidecarDown", "0", "metrics.prometheusRule.alertLabels", map[string]any{"team": "a"},
		"metrics.prometheusRule.disabledAlerts", []string{"GCPressure"}, "metrics.prometheusRule.recordingRules", false)
	pr := prometheusRule(t, good)
	if pr == nil {
		t.Fatal("valid values render no PrometheusRule")
	}
	g := groupsOf(t, pr)
	if len(g.Groups) != 1 || slices.ContainsFunc(g.alerts(), func(a rule) bool { return a.Alert == "GCPressure" }) {
		t.Errorf("recordingRules=false and GCPressure disabled, yet the groups are %+v", g.Groups)
	}
}
