package localcluster

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSamplesFlattensEveryKindOfSeries(t *testing.T) {
	text := `# TYPE go_goroutines gauge
go_goroutines 42
# TYPE gopherscope_injections_total counter
gopherscope_injections_total{result="inject",reason="injected"} 3
gopherscope_injections_total{result="skip",reason="namespace-not-opted-in"} 2
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 0.001
go_gc_duration_seconds{quantile="1"} 0.004
go_gc_duration_seconds_sum 0.01
go_gc_duration_seconds_count 5
# TYPE request_duration_seconds histogram
request_duration_seconds_bucket{le="1"} 1
request_duration_seconds_bucket{le="+Inf"} 2
request_duration_seconds_sum 1.5
request_duration_seconds_count 2
`
	got, err := ParseSamples([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := Samples{
		"go_goroutines": 42,
		`gopherscope_injections_total{reason="injected",result="inject"}`:             3,
		`gopherscope_injections_total{reason="namespace-not-opted-in",result="skip"}`: 2,
		`go_gc_duration_seconds{quantile="0"}`:                                        0.001,
		`go_gc_duration_seconds{quantile="1"}`:                                        0.004,
		"go_gc_duration_seconds_sum":                                                  0.01,
		"go_gc_duration_seconds_count":                                                5,
		"request_duration_seconds_sum":                                                1.5,
		"request_duration_seconds_count":                                              2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("samples (-want +got):\n%s", diff)
	}
	if got := got.Sum("gopherscope_injections_total"); got != 5 {
		t.Errorf("Sum = %v, want 5", got)
	}
	for name, want := range map[string]bool{"go_gc_duration_seconds": true, "go_goroutines": true, "go_threads": false, "go_gc": false} {
		if got.Has(name) != want {
			t.Errorf("Has(%q) = %v, want %v", name, !want, want)
		}
	}
}

func TestParseSamplesRefusesBrokenText(t *testing.T) {
	if _, err := ParseSamples([]byte("go_goroutines{ 1\n")); err == nil {
		t.Error("ParseSamples accepted a broken exposition")
	}
}

func TestMergeValuesMergesMapsAndReplacesTheRest(t *testing.T) {
	dst := map[string]any{
		"webhook": map[string]any{"url": "https://127.0.0.1:1/inject"},
		"tls":     map[string]any{"mode": "helm", "ipAddresses": []any{"127.0.0.1"}},
	}
	mergeValues(dst, map[string]any{
		"webhook":      map[string]any{"failurePolicy": "Fail"},
		"tls":          map[string]any{"ipAddresses": []any{"127.0.0.2"}},
		"replicaCount": 1,
	})
	want := map[string]any{
		"webhook":      map[string]any{"url": "https://127.0.0.1:1/inject", "failurePolicy": "Fail"},
		"tls":          map[string]any{"mode": "helm", "ipAddresses": []any{"127.0.0.2"}},
		"replicaCount": 1,
	}
	if diff := cmp.Diff(want, dst); diff != "" {
		t.Errorf("merged values (-want +got):\n%s", diff)
	}
}
