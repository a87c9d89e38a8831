package sidecar

import (
	"bytes"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gopherscope/gopherscope/sidecar/history"
)

var update = flag.Bool("update", false, "rewrite the golden expositions under testdata/golden")

const (
	varsPath      = "/debug/vars"
	indexPath     = "/debug/pprof/"
	goroutinePath = "/debug/pprof/goroutine?debug=1"
	metricsPath   = "/metrics"
)

// goldenCase is a sequence of what the app answers, one map per sample; the
// exposition after the last sample is compared with testdata/golden/<name>.prom.
type goldenCase struct {
	name        string
	metricsPath string // the sidecar's --metrics-path
	steps       []map[string]string
}

func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "expvar-and-pprof", steps: []map[string]string{{varsPath: "vars.json", indexPath: "pprof-index.html"}}},
		{name: "expvar-only", steps: []map[string]string{{varsPath: "vars.json"}}},
		{name: "pprof-only", steps: []map[string]string{{indexPath: "pprof-index.html"}}},
		{name: "pprof-index-without-counts", steps: []map[string]string{{indexPath: "pprof-index-nocounts.html", goroutinePath: "goroutine-debug1.txt"}}},
		{name: "prometheus-only", metricsPath: metricsPath, steps: []map[string]string{{metricsPath: "client-golang.prom"}}},
		{name: "prometheus-expvar-and-pprof", metricsPath: metricsPath, steps: []map[string]string{{metricsPath: "client-golang.prom", varsPath: "vars.json", indexPath: "pprof-index.html"}}},
		{name: "numgc-wrapped-past-256", steps: []map[string]string{{varsPath: "vars-wrapped.json", indexPath: "pprof-index.html"}}},
		{name: "restart", steps: []map[string]string{
			{varsPath: "vars-wrapped.json", indexPath: "pprof-index.html"},
			{varsPath: "vars.json", indexPath: "pprof-index.html"},
		}},
		{name: "every-endpoint-missing", steps: []map[string]string{nil}},
	}
}

func TestGoldenExpositions(t *testing.T) {
	used := map[string]bool{}
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			full := sampleGoldenCase(t, tc)
			checkWithPromtool(t, full)
			checkNoDuplicates(t, full)
			got := stable(full)

			path := filepath.Join("testdata", "golden", tc.name+".prom")
			used[filepath.Base(path)] = true
			if *update {
				if err := os.WriteFile(path, got, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("exposition differs from %s (-want +got):\n%s", path, diff)
			}
		})
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !used[e.Name()] {
			t.Errorf("stale golden file testdata/golden/%s: no case uses it", e.Name())
		}
	}
}

// checkNoDuplicates parses an exposition with expfmt and fails on a series
// (name and labels) that appears twice.
func checkNoDuplicates(t testing.TB, exposition []byte) map[string]float64 {
	t.Helper()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(exposition))
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	seen := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(labels)
			key := name + "{" + strings.Join(labels, ",") + "}"
			if _, dup := seen[key]; dup {
				t.Errorf("series %s appears twice", key)
			}
			var v float64
			switch {
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetUntyped() != nil:
				v = m.GetUntyped().GetValue()
			case m.GetSummary() != nil:
				v = float64(m.GetSummary().GetSampleCount())
			case m.GetHistogram() != nil:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			seen[key] = v
		}
	}
	return seen
}

// sampleGoldenCase runs a golden case's samples and returns the sidecar's whole exposition.
func sampleGoldenCase(t *testing.T, tc goldenCase) []byte {
	t.Helper()
	target := newFakeTarget(t)
	s := NewSampler(testOptions(target.port(), tc.metricsPath), history.New(10), testLogger(t))
	defer s.Close()
	for _, step := range tc.steps {
		responses := map[string]http.HandlerFunc{}
		for uri, file := range step {
			responses[uri] = fixtureBody(t, file)
		}
		target.serve(responses)
		s.SampleOnce(t.Context())
	}
	return render(t, s)
}
