package chart_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/test/chart"
)

// fleetColumns are the fleet table's columns and the series each is computed from.
var fleetColumns = map[string]string{
	"Findings":       "gopherscope_finding",
	"Goroutines":     "go_goroutines",
	"Heap in use":    "go_memstats_heap_inuse_bytes",
	"GC pause share": "go_gc_duration_seconds_sum",
	"Alloc/s":        "go_memstats_alloc_bytes_total",
}

// topPanel returns the panel at the top left of the dashboard.
func topPanel(t *testing.T, d chart.Dashboard) chart.DashboardPanel {
	t.Helper()
	if len(d.Panels) == 0 || d.Panels[0].GridPos == nil {
		t.Fatal("the dashboard has no panels, or its first has no position")
	}
	top := d.Panels[0]
	for _, p := range d.Panels[1:] {
		if p.GridPos != nil && (p.GridPos.Y < top.GridPos.Y || p.GridPos.Y == top.GridPos.Y && p.GridPos.X < top.GridPos.X) {
			top = p
		}
	}
	return top
}

func TestDashboardOpensWithATableOfPodsWorstFirst(t *testing.T) {
	table := topPanel(t, renderedDashboard(t))
	if table.Type != "table" {
		t.Fatalf("the top panel %q is a %s, want the fleet table", table.Title, table.Type)
	}
	exprs := map[string]string{} // by refId
	for _, target := range table.Targets {
		exprs[target.RefID] = target.Expr
		if !target.Instant || target.Format != "table" {
			t.Errorf("query %s: instant %v, format %q; a table of the present wants instant table queries", target.RefID, target.Instant, target.Format)
		}
		if !strings.HasPrefix(target.Expr, "max by (namespace, pod) (") && !strings.HasPrefix(target.Expr, "count by (namespace, pod) (") {
			t.Errorf("query %s is not one series per pod (max or count by (namespace, pod)): %s", target.RefID, target.Expr)
		}
		for _, name := range metricNames(target.Expr) {
			if strings.Contains(name, ":") {
				t.Errorf("query %s reads the recording rule %s, which is optional; read the raw series", target.RefID, name)
			}
		}
	}
	var ids []string
	var organize struct {
		ExcludeByName map[string]bool   `json:"excludeByName"`
		RenameByName  map[string]string `json:"renameByName"`
	}
	var sorts []string
	for _, tr := range table.Transformations {
		ids = append(ids, tr.ID)
		switch tr.ID {
		case "organize":
			if err := json.Unmarshal(tr.Options, &organize); err != nil {
				t.Fatal(err)
			}
		case "sortBy":
			var sortBy struct {
				Sort []struct {
					Field string `json:"field"`
					Desc  bool   `json:"desc"`
				} `json:"sort"`
			}
			if err := json.Unmarshal(tr.Options, &sortBy); err != nil {
				t.Fatal(err)
			}
			// Grafana sorts by the first entry only, and stably: the last sort is the first key.
			if len(sortBy.Sort) != 1 || !sortBy.Sort[0].Desc {
				t.Errorf("sortBy %s: want one field, descending", tr.Options)
			}
			if len(sortBy.Sort) > 0 {
				sorts = append([]string{sortBy.Sort[0].Field}, sorts...)
			}
		}
	}
	if len(ids) < 2 || ids[0] != "merge" || ids[1] != "organize" {
		t.Errorf("transformations %v, want merge (one row per pod), then organize", ids)
	}
	if diff := cmp.Diff([]string{"Findings", "Goroutines"}, sorts); diff != "" {
		t.Errorf("sort keys, first first (-want +got):\n%s", diff)
	}
	if !organize.ExcludeByName["Time"] {
		t.Error("the table shows the instant queries' Time column")
	}
	columns := map[string]string{} // column -> expr
	for value, column := range organize.RenameByName {
		expr, ok := exprs[strings.TrimPrefix(value, "Value #")]
		if !ok {
			t.Errorf("column %q renames %q, which no query returns", column, value)
		}
		columns[column] = expr
	}
	if len(columns) != len(table.Targets) {
		t.Errorf("%d columns for %d queries: every query's value needs a name", len(columns), len(table.Targets))
	}
	for column, series := range fleetColumns {
		expr, ok := columns[column]
		if !ok {
			t.Errorf("the fleet table has no %q column (columns: %v)", column, columns)
			continue
		}
		if !slices.Contains(metricNames(expr), series) {
			t.Errorf("column %q is computed from %s, want %s", column, expr, series)
		}
		if desc := table.Description(column); !strings.Contains(desc, series) {
			t.Errorf("column %q is described as %q, which does not name %s", column, desc, series)
		}
	}
	if desc := table.Description("GC pause share"); !strings.Contains(desc, "pause") || !strings.Contains(desc, "not GC CPU share") {
		t.Errorf("the GC column's description does not say it is the pause share, not the CPU share: %q", desc)
	}
}

func TestDashboardNamesTheKindOfEachActiveFindingBesideTheTable(t *testing.T) {
	d := renderedDashboard(t)
	table := topPanel(t, d)
	for _, p := range d.Panels {
		if p.ID == table.ID || p.Type != "table" || p.GridPos.Y != table.GridPos.Y || len(p.Targets) != 1 {
			continue
		}
		if want := `max by (namespace, pod, kind, severity) (gopherscope_finding{namespace=~"$namespace"} == 1)`; p.Targets[0].Expr != want {
			t.Errorf("the findings table queries %s, want %s", p.Targets[0].Expr, want)
		}
		return
	}
	t.Error("no table beside the fleet table lists the active findings by kind")
}

func TestDashboardShowsTheChosenPodsBelowTheTable(t *testing.T) {
	d := renderedDashboard(t)
	table := topPanel(t, d)
	var exprs []string
	for _, p := range d.Panels {
		if p.Type != "timeseries" {
			continue
		}
		if p.GridPos.Y < table.GridPos.Y+table.GridPos.H {
			t.Errorf("panel %q (y %d) is not below the fleet table", p.Title, p.GridPos.Y)
		}
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
			if !strings.Contains(target.Expr, `namespace=~"$namespace", pod=~"$pod"`) {
				t.Errorf("panel %q does not follow the namespace and pod variables: %s", p.Title, target.Expr)
			}
		}
	}
	for _, want := range []string{
		`go_goroutines{namespace=~"$namespace", pod=~"$pod"}`,
		`go_memstats_heap_inuse_bytes{namespace=~"$namespace", pod=~"$pod"}`,
		`rate(go_memstats_alloc_bytes_total{namespace=~"$namespace", pod=~"$pod"}[5m])`,
		`go_gc_duration_seconds{namespace=~"$namespace", pod=~"$pod", quantile="0.5"}`,
		// Prometheus 3 stores quantile 1 as "1.0", Prometheus 2 as "1".
		`go_gc_duration_seconds{namespace=~"$namespace", pod=~"$pod", quantile=~"1|1.0"}`,
		`gopherscope_target_up{namespace=~"$namespace", pod=~"$pod"}`,
	} {
		if !slices.Contains(exprs, want) {
			t.Errorf("no per-pod panel queries %s", want)
		}
	}
}
