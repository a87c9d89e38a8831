package chart_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopherscope/gopherscope/test/chart"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// exposedSeries returns the names of the series a Prometheus scraping the sidecars can hold:
// every series of the sidecar's golden expositions (sidecar/testdata/golden/*.prom, one per
// kind of app), the sidecar's own gopherscope_* series declared with prometheus.NewDesc in
// package sidecar (a finding is absent from every golden file, since none of their apps has
// one), and `up`, which Prometheus adds to every target.
func exposedSeries(t *testing.T) map[string]bool {
	t.Helper()
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{"up": true}
	goldens, err := filepath.Glob(filepath.Join(root, "sidecar", "testdata", "golden", "*.prom"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no sidecar/testdata/golden/*.prom (%v)", err)
	}
	for _, path := range goldens {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		textParser := expfmt.NewTextParser(model.UTF8Validation)
		families, err := textParser.TextToMetricFamilies(f)
		_ = f.Close()
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		for name, family := range families {
			for _, suffix := range seriesSuffixes(family.GetType()) {
				names[name+suffix] = true
			}
		}
	}
	for _, name := range declaredDescs(t, filepath.Join(root, "sidecar")) {
		if strings.HasPrefix(name, "gopherscope_") {
			names[name] = true
		}
	}
	return names
}

// seriesSuffixes are the suffixes of the series a family of type typ is stored as.
func seriesSuffixes(typ dto.MetricType) []string {
	switch typ {
	case dto.MetricType_SUMMARY:
		return []string{"", "_sum", "_count"}
	case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
		return []string{"_bucket", "_sum", "_count"}
	default:
		return []string{""}
	}
}

// declaredDescs returns the metric names given as string literals to prometheus.NewDesc in the
// non-test Go files of dir.
func declaredDescs(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "NewDesc" {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if name, err := strconv.Unquote(lit.Value); err == nil {
					names = append(names, name)
				}
			}
			return true
		})
	}
	if len(names) == 0 {
		t.Fatalf("no prometheus.NewDesc with a literal name in %s", dir)
	}
	return names
}

// promqlKeywords are PromQL's words that are neither metric names nor followed by "(".
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true,
	"without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"inf": true, "nan": true, "atan2": true,
}

// groupingWords are the PromQL words whose parenthesised list holds label names.
var groupingWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
}

// metricNames returns the metric names an expression selects: the identifiers that are not
// functions, aggregations or keywords, outside strings, label matchers, ranges and grouping
// lists. It is not a PromQL parser (promtool checks the syntax), only enough to catch a
// misspelt or unexposed series.
func metricNames(expr string) []string {
	var names []string
	afterGrouping := false
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipQuoted(expr, i)
		case c == '{':
			i = skipTo(expr, i, '}')
		case c == '[':
			i = skipTo(expr, i, ']')
		case c == '(' && afterGrouping:
			i = skipTo(expr, i, ')')
			afterGrouping = false
		case c >= '0' && c <= '9' || c == '.':
			for i < len(expr) && isNumberByte(expr[i]) {
				i++
			}
		case isIdentStart(c):
			start := i
			for i < len(expr) && isIdentByte(expr[i]) {
				i++
			}
			word := expr[start:i]
			next := strings.TrimLeft(expr[i:], " \t\n")
			afterGrouping = groupingWords[word]
			// A function or aggregation is followed by "(", or by its grouping: max by (pod) (...).
			aggregation := strings.HasPrefix(next, "by") || strings.HasPrefix(next, "without")
			if rest := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(next, "by"), "without"), " \t\n"); aggregation && !strings.HasPrefix(rest, "(") {
				aggregation = false // a metric name that starts with "by"
			}
			if !promqlKeywords[word] && !aggregation && !strings.HasPrefix(next, "(") {
				names = append(names, word)
			}
		default:
			if c != ' ' && c != '\t' && c != '\n' {
				afterGrouping = false
			}
			i++
		}
	}
	return names
}

// skipQuoted returns the index after the string literal that starts at i.
func skipQuoted(s string, i int) int {
	quote := s[i]
	for i++; i < len(s); i++ {
		if s[i] == '\\' && quote != '`' {
			i++
			continue
		}
		if s[i] == quote {
			return i + 1
		}
	}
	return len(s)
}

// skipTo returns the index after the first closing byte at or after i, outside strings.
func skipTo(s string, i int, closing byte) int {
	for i++; i < len(s); {
		switch s[i] {
		case '"', '\'', '`':
			i = skipQuoted(s, i)
		case closing:
			return i + 1
		default:
			i++
		}
	}
	return len(s)
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isIdentByte(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// isNumberByte covers PromQL's numbers and durations (1e-3 aside): 0.5, 1e9, 0x1f, 5m.
func isNumberByte(c byte) bool { return isIdentByte(c) || c == '.' }

func TestMetricNamesFindsTheSelectedSeriesOnly(t *testing.T) {
	for expr, want := range map[string]string{
		`go_goroutines{namespace=~"$namespace", pod=~"a{b}"}`:                            "go_goroutines",
		`max by (namespace, pod) (rate(go_gc_duration_seconds_sum{job="x"}[5m]))`:        "go_gc_duration_seconds_sum",
		`count by (namespace) (a == 1) or 0 * max without(kind) (b offset 1h)`:           "a b",
		`x / on (pod) group_left (node) y * 1e9 > bool 0.5`:                              "x y",
		`sum(rate(go_memstats_alloc_bytes_total[1m:10s])) by (pod) / vector(2) + up > 0`: "go_memstats_alloc_bytes_total up",
		`namespace_pod:go_goroutines:max`:                                                "namespace_pod:go_goroutines:max",
	} {
		if got := strings.Join(metricNames(expr), " "); got != want {
			t.Errorf("metricNames(%s) = %q, want %q", expr, got, want)
		}
	}
}
