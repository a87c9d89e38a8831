package chart_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/test/chart"
	corev1 "k8s.io/api/core/v1"
)

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []dashboardVariable `json:"list"`
	} `json:"templating"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboardVariable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Definition string `json:"definition"`
	// Query is a string ("prometheus" for a datasource variable) or, for a query variable,
	// an object holding the query.
	Query json.RawMessage `json:"query"`
}

// query returns the query of a query variable.
func (v dashboardVariable) query() string {
	var q struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &q); err != nil {
		return ""
	}
	return q.Query
}

type dashboardPanel struct {
	ID         int    `json:"id"`
	Title      string `json:"title"`
	Type       string `json:"type"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos *struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		RefID   string `json:"refId"`
		Expr    string `json:"expr"`
		Instant bool   `json:"instant"`
		Format  string `json:"format"`
	} `json:"targets"`
	Transformations []struct {
		ID      string          `json:"id"`
		Options json.RawMessage `json:"options"`
	} `json:"transformations"`
	FieldConfig struct {
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options string `json:"options"`
			} `json:"matcher"`
			Properties []struct {
				ID    string `json:"id"`
				Value any    `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
}

// description returns the description a field override gives the column name.
func (p dashboardPanel) description(name string) string {
	for _, o := range p.FieldConfig.Overrides {
		if o.Matcher.ID != "byName" || o.Matcher.Options != name {
			continue
		}
		for _, prop := range o.Properties {
			if s, ok := prop.Value.(string); ok && prop.ID == "description" {
				return s
			}
		}
	}
	return ""
}

// renderedDashboard renders the chart with the dashboard enabled and decodes the dashboard
// from its ConfigMap, checking that the ConfigMap carries files/dashboard.json unchanged.
func renderedDashboard(t *testing.T) dashboard {
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
	var d dashboard
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		t.Fatalf("the dashboard is not valid JSON: %v", err)
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
		for _, name := range metricNames(labelValuesSelector(v.Definition)) {
			if !exposed[name] {
				t.Errorf("template variable %q: %s is no series the sidecar exposes", v.Name, name)
			}
		}
	}
}

// labelValues matches Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?), ([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// labelValuesSelector returns the series selector of a label_values query, or "".
func labelValuesSelector(query string) string {
	if m := labelValues.FindStringSubmatch(query); m != nil {
		return m[1]
	}
	return ""
}

// variableUse matches $name and ${name} (Grafana's own variables start with __).
var variableUse = regexp.MustCompile(`\$\{?([a-zA-Z][a-zA-Z0-9_]*)`)

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
		m := labelValues.FindStringSubmatch(v.Definition)
		switch {
		case v.query() != v.Definition || m == nil:
			t.Errorf("variable %q: query %q, definition %q, want one label_values(selector, label)", v.Name, v.query(), v.Definition)
		case m[2] != v.Name:
			t.Errorf("variable %q lists the values of another label: %s", v.Name, v.Definition)
		}
	}
	if diff := cmp.Diff([]string{"datasource", "namespace", "pod"}, names); diff != "" {
		t.Errorf("template variables (-want +got):\n%s", diff)
	}
	for _, v := range d.Templating.List {
		for _, use := range variableUse.FindAllStringSubmatch(v.Definition, -1) {
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
		for _, use := range variableUse.FindAllStringSubmatch(string(raw), -1) {
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
				"expr":   variableUse.ReplaceAllString(target.Expr, ".*"),
			})
		}
	}
	for _, v := range d.Templating.List {
		if sel := labelValuesSelector(v.Definition); sel != "" {
			rules = append(rules, map[string]string{"record": "dashboard_variable_" + v.Name, "expr": variableUse.ReplaceAllString(sel, ".*")})
		}
	}
	dir := t.TempDir()
	writeYAML(t, filepath.Join(dir, "dashboard.yaml"), map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}})
	runPromtool(t, promtool, dir, "check", "rules", "dashboard.yaml")
}
