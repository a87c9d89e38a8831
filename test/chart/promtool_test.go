package chart_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"sigs.k8s.io/yaml"
)

// rulesTestValues are the values the rules' unit tests in testdata/rules are written for: the
// default durations, and a PodMonitor, whose job GopherscopeSidecarDown selects.
var rulesTestValues = values("metrics.prometheusRule.enabled", true, "metrics.podMonitor.enabled", true)

// promtoolTest is the part of a `promtool test rules` file the coverage check reads.
type promtoolTest struct {
	RuleFiles []string `json:"rule_files"`
	Tests     []struct {
		Name          string `json:"name"`
		AlertRuleTest []struct {
			AlertName string `json:"alertname"`
			ExpAlerts []any  `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// TestPrometheusRulePassesPromtool writes the rendered PrometheusRule's groups as a rules file
// (rules.yaml, and rules-without-annotations.yaml for the tests of when alerts fire, which
// would otherwise repeat every description), checks it with `promtool check rules` and runs
// every testdata/rules/*.test.yaml with `promtool test rules`.
func TestPrometheusRulePassesPromtool(t *testing.T) {
	promtool := promtoolPath(t)
	pr := prometheusRule(t, rulesTestValues)
	if pr == nil {
		t.Fatal("no PrometheusRule rendered")
	}
	groups := groupsOf(t, pr)
	dir := t.TempDir()
	writeYAML(t, filepath.Join(dir, "rules.yaml"), pr.Object["spec"])
	for _, g := range groups.Groups {
		for i := range g.Rules {
			g.Rules[i].Annotations = nil
		}
	}
	writeYAML(t, filepath.Join(dir, "rules-without-annotations.yaml"), groups)

	runPromtool(t, promtool, dir, "check", "rules", "rules.yaml", "rules-without-annotations.yaml")

	testFiles, err := filepath.Glob(filepath.Join("testdata", "rules", "*.test.yaml"))
	if err != nil || len(testFiles) == 0 {
		t.Fatalf("no testdata/rules/*.test.yaml (%v)", err)
	}
	args := []string{"test", "rules"}
	for _, f := range testFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, filepath.Base(f))
	}
	runPromtool(t, promtool, dir, args...)
}

// TestEveryAlertHasRulesTestsThatFireAndThatDoNot: each alert of the chart is tested in
// testdata/rules both with series that make it fire and with series that must not.
func TestEveryAlertHasRulesTestsThatFireAndThatDoNot(t *testing.T) {
	fires, silent := map[string]bool{}, map[string]bool{}
	testFiles, err := filepath.Glob(filepath.Join("testdata", "rules", "*.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range testFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var pt promtoolTest
		if err := yaml.Unmarshal(data, &pt); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range pt.Tests {
			for _, at := range tc.AlertRuleTest {
				if len(at.ExpAlerts) > 0 {
					fires[at.AlertName] = true
				} else {
					silent[at.AlertName] = true
				}
			}
		}
	}
	names := map[string]bool{}
	for _, a := range groupsOf(t, prometheusRule(t, rulesTestValues)).alerts() {
		names[a.Alert] = true
	}
	if len(names) < 6 {
		t.Fatalf("only %d alerts rendered: %v", len(names), names)
	}
	var missing []string
	for name := range names {
		if !fires[name] {
			missing = append(missing, name+" (firing)")
		}
		if !silent[name] {
			missing = append(missing, name+" (not firing)")
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("testdata/rules has no case for %v", missing)
	}
}

func writeYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// runPromtool runs promtool in dir and fails the test with its output if it fails.
func runPromtool(t *testing.T, promtool, dir string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), promtool, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("promtool %v: %v\n%s", args, err, out.String())
	}
}
