package chart

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Dashboard is the part of the chart's Grafana dashboard (files/dashboard.json) the tests read.
type Dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []DashboardVariable `json:"list"`
	} `json:"templating"`
	Panels []DashboardPanel `json:"panels"`
}

// DashboardVariable is a template variable.
type DashboardVariable struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Definition string `json:"definition"`
	// RawQuery is a string ("prometheus" for a datasource variable) or, for a query variable,
	// an object holding the query.
	RawQuery json.RawMessage `json:"query"`
}

// Query returns the query of a query variable.
func (v DashboardVariable) Query() string {
	var q struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.RawQuery, &q); err != nil {
		return ""
	}
	return q.Query
}

// DashboardPanel is a panel and its queries.
type DashboardPanel struct {
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

// Description returns the description a field override gives the column name.
func (p DashboardPanel) Description(name string) string {
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

// DecodeDashboard decodes a dashboard's JSON.
func DecodeDashboard(data []byte) (Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return Dashboard{}, fmt.Errorf("the dashboard is not valid JSON: %w", err)
	}
	return d, nil
}

// ReadDashboard reads and decodes the chart's files/dashboard.json.
func ReadDashboard() (Dashboard, error) {
	root, err := RepoRoot()
	if err != nil {
		return Dashboard{}, err
	}
	data, err := os.ReadFile(filepath.Join(root, "charts", "gopherscope", "files", "dashboard.json")) //nolint:gosec // the repository's own chart
	if err != nil {
		return Dashboard{}, err
	}
	return DecodeDashboard(data)
}

// labelValues matches Grafana's label_values(selector, label) variable query.
var labelValues = regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?), ([a-zA-Z_][a-zA-Z0-9_]*)\)$`)

// LabelValuesQuery splits a label_values(selector, label) variable query; ok
// is false for any other query.
func LabelValuesQuery(query string) (selector, label string, ok bool) {
	m := labelValues.FindStringSubmatch(query)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// VariableUse matches $name and ${name} in a query (Grafana's own variables
// start with __ and are not matched); the name is the first group.
var VariableUse = regexp.MustCompile(`\$\{?([a-zA-Z][a-zA-Z0-9_]*)\}?`)
