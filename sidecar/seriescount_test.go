package sidecar

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gopherscope/gopherscope/sidecar/findings"
)

// findingKinds are the kinds of finding; each adds at most one gopherscope_finding series
// while it holds. A new kind is one more series per pod: add it here and to the budget.
var findingKinds = []findings.Kind{
	findings.GoroutineLeak, findings.MemoryNearLimit, findings.NoGOMEMLIMIT,
	findings.GCPressure, findings.GOMAXPROCSAboveCPULimit,
}

// seriesBudget is the most series the sidecar of one pod may expose, by kind of app (the
// golden case it is measured on), every finding active. BENCHMARKS.md ("Scale on paper")
// sizes a Prometheus from these numbers: raise one only with that section.
var seriesBudget = map[string]int{
	"expvar-and-pprof": 45,  // the usual Go service: expvar and net/http/pprof
	"prometheus-only":  125, // an app with client_golang's default Go and process collectors
	"pprof-only":       15,  // net/http/pprof alone
}

// exposedLabels are the only label names the sidecar's series carry. None is unique to a pod
// (namespace, pod and instance come from the scraper's Kubernetes discovery), so the series of
// a pod replaced by its twin differ only in those.
var exposedLabels = []string{"kind", "le", "quantile", "reason", "severity", "source", "version"}

// TestSeriesPerPod measures the series each kind of app's sidecar exposes, from the golden
// cases' full exposition (the volatile timing series included), and fails when one outgrows
// its budget or carries a label outside exposedLabels. Run with -v to print the counts.
func TestSeriesPerPod(t *testing.T) {
	for _, tc := range goldenCases() {
		budget, ok := seriesBudget[tc.name]
		if !ok {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			exposition := sampleGoldenCase(t, tc)
			series := 0
			for line := range strings.Lines(string(exposition)) {
				if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
					series++
				}
			}
			if series == 0 {
				t.Fatal("the exposition has no series")
			}
			worst := series + len(findingKinds)
			t.Logf("%s: %d series, %d with every finding active (budget %d)", tc.name, series, worst, budget)
			if worst > budget {
				t.Errorf("%s exposes %d series, %d with every finding: over its budget of %d (BENCHMARKS.md, Scale on paper)", tc.name, series, worst, budget)
			}
			textParser := expfmt.NewTextParser(model.LegacyValidation)
			families, err := textParser.TextToMetricFamilies(bytes.NewReader(exposition))
			if err != nil {
				t.Fatal(err)
			}
			for name, family := range families {
				for _, m := range family.GetMetric() {
					for _, l := range m.GetLabel() {
						if !slices.Contains(exposedLabels, l.GetName()) {
							t.Errorf("%s has the label %s=%q, which is none of %v", name, l.GetName(), l.GetValue(), exposedLabels)
						}
					}
				}
			}
		})
	}
	for name := range seriesBudget {
		if !slices.ContainsFunc(goldenCases(), func(tc goldenCase) bool { return tc.name == name }) {
			t.Errorf("the budget names %q, which is no golden case", name)
		}
	}
}
