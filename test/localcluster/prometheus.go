package localcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"sigs.k8s.io/yaml"
)

// PrometheusOptions describe a Prometheus server run from bin/prometheus.
type PrometheusOptions struct {
	// RepoRoot holds bin/prometheus (built by `make tools`).
	RepoRoot string
	// Dir receives the configuration, the rule file, the TSDB and the log.
	Dir string
	// Config is prometheus.yml. When Rules is set, rule_files is added.
	Config map[string]any
	// Rules, if not nil, is a rule file ({groups: [...]}) Prometheus evaluates.
	Rules map[string]any
}

// Prometheus is a real Prometheus server: it discovers and scrapes targets as
// a user's does, and the tests read what it holds through its HTTP API, as
// Grafana and Alertmanager do. Its web UI is not built.
type Prometheus struct {
	proc *Process
	// URL is http://127.0.0.1:PORT, where its HTTP API answers.
	URL string
}

// StartPrometheus writes the configuration and starts Prometheus on a free
// loopback port, returning once it is ready (its configuration loaded).
func StartPrometheus(ctx context.Context, opts PrometheusOptions) (*Prometheus, error) {
	bin := filepath.Join(opts.RepoRoot, "bin", "prometheus")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("prometheus not built (run `make tools`): %w", err)
	}
	cfg := map[string]any{}
	maps.Copy(cfg, opts.Config)
	if opts.Rules != nil {
		if err := writeYAML(filepath.Join(opts.Dir, "rules.yaml"), opts.Rules); err != nil {
			return nil, err
		}
		cfg["rule_files"] = []string{filepath.Join(opts.Dir, "rules.yaml")}
	}
	config := filepath.Join(opts.Dir, "prometheus.yml")
	if err := writeYAML(config, cfg); err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	proc, err := StartProcess(ProcessOptions{
		Name: "prometheus", Path: bin, LogDir: opts.Dir,
		Args: []string{
			"--config.file=" + config, "--storage.tsdb.path=" + filepath.Join(opts.Dir, "data"),
			"--web.listen-address=" + addr, "--log.level=info",
		},
		Env: []string{"HOME=" + opts.Dir},
	})
	if err != nil {
		return nil, err
	}
	p := &Prometheus{proc: proc, URL: "http://" + addr}
	if err := proc.WaitReady(ctx, p.URL+"/-/ready", time.Minute); err != nil {
		return nil, fmt.Errorf("%w (stop: %w)", err, proc.Stop())
	}
	return p, nil
}

func writeYAML(path string, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Stop stops Prometheus.
func (p *Prometheus) Stop() error { return p.proc.Stop() }

// LogTail returns the last n lines of Prometheus's log, for error messages.
func (p *Prometheus) LogTail(n int) string { return p.proc.LogTail(n) }

// PromSample is one series of an instant vector.
type PromSample struct {
	Metric map[string]string
	Value  float64
}

// PromTarget is one active scrape target.
type PromTarget struct {
	Labels     map[string]string `json:"labels"`
	ScrapePool string            `json:"scrapePool"`
	ScrapeURL  string            `json:"scrapeUrl"`
	Health     string            `json:"health"`
	LastError  string            `json:"lastError"`
}

// PromAlert is one pending or firing alert.
type PromAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

// Query evaluates expr now and returns its instant vector.
func (p *Prometheus) Query(ctx context.Context, expr string) ([]PromSample, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := p.get(ctx, "/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %q, want vector", expr, data.ResultType)
	}
	out := make([]PromSample, 0, len(data.Result))
	for _, r := range data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", expr, r.Value[1], err)
		}
		out = append(out, PromSample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// Targets returns the active targets of every scrape pool.
func (p *Prometheus) Targets(ctx context.Context) ([]PromTarget, error) {
	var data struct {
		Active []PromTarget `json:"activeTargets"`
	}
	err := p.get(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &data)
	return data.Active, err
}

// Alerts returns the pending and firing alerts.
func (p *Prometheus) Alerts(ctx context.Context) ([]PromAlert, error) {
	var data struct {
		Alerts []PromAlert `json:"alerts"`
	}
	err := p.get(ctx, "/api/v1/alerts", nil, &data)
	return data.Alerts, err
}

// LabelValues returns the values of label on the series that match, as
// Grafana's label_values(match, label) asks.
func (p *Prometheus) LabelValues(ctx context.Context, label, match string) ([]string, error) {
	var values []string
	err := p.get(ctx, "/api/v1/label/"+url.PathEscape(label)+"/values", url.Values{"match[]": {match}}, &values)
	return values, err
}

// get calls an API endpoint and decodes the data of a success; an error
// answer is returned with Prometheus's own message.
func (p *Prometheus) get(ctx context.Context, path string, query url.Values, data any) error {
	u := p.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	body, err := Get(ctx, u)
	if err != nil {
		return err
	}
	var resp struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, resp.Error)
	}
	if err := json.Unmarshal(resp.Data, data); err != nil {
		return fmt.Errorf("GET %s: decode data: %w", u, err)
	}
	return nil
}

// PromRule is one recording or alerting rule, as last evaluated.
type PromRule struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

// Rules returns every rule of every group loaded from the rule file.
func (p *Prometheus) Rules(ctx context.Context) ([]PromRule, error) {
	var data struct {
		Groups []struct {
			Rules []PromRule `json:"rules"`
		} `json:"groups"`
	}
	if err := p.get(ctx, "/api/v1/rules", nil, &data); err != nil {
		return nil, err
	}
	var out []PromRule
	for _, g := range data.Groups {
		out = append(out, g.Rules...)
	}
	return out, nil
}
