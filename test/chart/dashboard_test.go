package chart_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/test/chart"
	corev1 "k8s.io/api/core/v1"
)

// renderedDashboard renders the chart with the dashboard enabled and decodes the dashboard
// from its ConfigMap, checking that the ConfigMap carries files/dashboard.json unchanged.
func renderedDashboard(t *testing.T) chart.Dashboard {
	t.Helper()
	m := render(t, values("dashboard.enabled", true, "dashboard.namespace", "monitoring"))
	cm := get[*corev1.ConfigMap](t, m, fullname+"-dashboard")
	if cm.Namespace != "monitoring" || cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("dashboard ConfigMap in %q with labels %v, want namespace monitoring and grafana_dashboard=1", cm.Namespace, cm.Labels)
	}
	data, ok := cm.Data["gopherscope-go-runtime.json"]
	if len(cm.Data) != 1 || !ok {
		t.Fatalf("dashboard ConfigMap has keys %v, want gopherscope-go-runtime.json only", slices.Collect(maps.Keys(cm.Data)))
	}
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(root, "charts", "gopherscope", "files", "dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(file), []byte(strings.TrimSpace(data))) {
		t.Error("the dashboard ConfigMap does not hold files/dashboard.json as it is")
	}
	d, err := chart.DecodeDashboard([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard uid %q, title %q: both are needed for provisioning", d.UID, d.Title)
	}
	return d
}

func TestEveryDashboardPanelQueriesTheDatasourceVariable(t *testing.T) {
	d := renderedDashboard(t)
	if len(d.Panels) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v, want prometheus ${datasource}", p.Title, p.Datasource)
		}
		if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q: gridPos %+v", p.Title, p.GridPos)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		refIDs := map[string]bool{}
		for _, target := range p.Targets {
			if strings.TrimSpace(target.Expr) == "" || target.RefID == "" || refIDs[target.RefID] {
				t.Errorf("panel %q: query %q has expr %q (a refId must be set and unique, an expr non-empty)", p.Title, target.RefID, target.Expr)
			}
			refIDs[target.RefID] = true
		}
	}
}

func TestDashboardQueriesOnlySeriesTheSidecarExposes(t *testing.T) {
	d := renderedDashboard(t)
	exposed := exposedSeries(t)
	for _, name := range []string{"go_goroutines", "go_gc_duration_seconds_sum", "gopherscope_finding", "gopherscope_target_up", "up"} {
		if !exposed[name] {
			t.Fatalf("the exposed series do not include %s: the golden files or the sidecar's descriptors moved", name)
		}
	}
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			for _, name := range metricNames(target.Expr) {
				if !exposed[name] {
					t.Errorf("panel %q, query %s: %s is no series the sidecar exposes (sidecar/testdata/golden/*.prom)", p.Title, target.RefID, name)
				}
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		selector, _, _ := chart.LabelValuesQuery(v.Definition)
		for _, name := range metricNames(selector) {
			if !exposed[name] {
				t.Errorf("template variable %q: %s is no series the sidecar exposes", v.Name, name)
			}
		}
	}
}

func TestDashboardVariablesExistAndAreLabelValuesQueries(t *testing.T) {
	d := renderedDashboard(t)
	defined := map[string]bool{}
	var names []string
	for _, v := range d.Templating.List {
		names = append(names, v.Name)
		defined[v.Name] = true
		if v.Type != "query" {
			continue
		}
		_, label, ok := chart.LabelValuesQuery(v.Definition)
		switch {
		case v.Query() != v.Definition || !ok:
			t.Errorf("variable %q: query %q, definition %q, want one label_values(selector, label)", v.Name, v.Query(), v.Definition)
		case label != v.Name:
			t.Errorf("variable %q lists the values of another label: %s", v.Name, v.Definition)
		}
	}
	if diff := cmp.Diff([]string{"datasource", "namespace", "pod"}, names); diff != "" {
		t.Errorf("template variables (-want +got):\n%s", diff)
	}
	for _, v := range d.Templating.List {
		for _, use := range chart.VariableUse.FindAllStringSubmatch(v.Definition, -1) {
			if !defined[use[1]] {
				t.Errorf("variable %q uses $%s, which is not defined", v.Name, use[1])
			}
		}
	}
	for _, p := range d.Panels {
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, use := range chart.VariableUse.FindAllStringSubmatch(string(raw), -1) {
			if !defined[use[1]] {
				t.Errorf("panel %q uses $%s, which is not defined", p.Title, use[1])
			}
		}
	}
}

// TestDashboardQueriesParseWithPromtool writes every query of the dashboard, with its
// variables set to match everything, as a recording rule and has promtool check the rules.
func TestDashboardQueriesParseWithPromtool(t *testing.T) {
	promtool := promtoolPath(t)
	d := renderedDashboard(t)
	var rules []map[string]string
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			rules = append(rules, map[string]string{
				"record": fmt.Sprintf("dashboard_panel_%d_%s", p.ID, target.RefID),
				"expr":   chart.VariableUse.ReplaceAllString(target.Expr, ".*"),
			})
		}
	}
	for _, v := range d.Templating.List {
		if sel, _, ok := chart.LabelValuesQuery(v.Definition); ok {
			rules = append(rules, map[string]string{"record": "dashboard_variable_" + v.Name, "expr": chart.VariableUse.ReplaceAllString(sel, ".*")})
		}
	}
	dir := t.TempDir()
	writeYAML(t, filepath.Join(dir, "dashboard.yaml"), map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	runPromtool(t, promtool, dir, "check", "rules", "dashboard.yaml")
}
