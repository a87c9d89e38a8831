package source

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// repeat renders format (with one %d) for 0..n-1.
func repeat(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}

// seriesCounts is family name -> number of series.
func seriesCounts(fams []*dto.MetricFamily) map[string]int {
	out := map[string]int{}
	for _, f := range fams {
		out[f.GetName()] = len(f.GetMetric())
	}
	return out
}

func TestParsePrometheusKeepsWithinTheLimits(t *testing.T) {
	text := expfmt.NewFormat(expfmt.TypeTextPlain)
	openMetrics := expfmt.NewFormat(expfmt.TypeOpenMetrics)
	histogram := func(name string, labels string) string {
		var b strings.Builder
		for _, le := range []string{"0.1", "1", "10", "+Inf"} {
			fmt.Fprintf(&b, "%s_bucket{%sle=\"%s\"} 1\n", name, labels, le)
		}
		fmt.Fprintf(&b, "%s_sum{%s} 1\n%s_count{%s} 1\n", name, strings.TrimSuffix(labels, ","), name, strings.TrimSuffix(labels, ","))
		return b.String()
	}
	tests := []struct {
		name        string
		body        string
		format      expfmt.Format
		wantSeries  map[string]int
		wantDropped Dropped
	}{
		{
			name:       "client_golang's own exposition is kept whole",
			body:       fixtureText(t),
			format:     text,
			wantSeries: seriesCounts(mustParseAll(t, fixtureText(t))),
		},
		{
			name:        "350,000 series of one family keep its first 100",
			body:        repeat(350000, "go_hostile{id=\"%06d\"} 1\n") + "go_threads 5\n",
			format:      text,
			wantSeries:  map[string]int{"go_hostile": 100, "go_threads": 1},
			wantDropped: Dropped{FamilyLimit: 349900},
		},
		{
			name:        "2,000 families of one series keep the first 1,000 series",
			body:        repeat(2000, "# HELP go_f%04[1]d A family.\n# TYPE go_f%04[1]d gauge\ngo_f%04[1]d 1\n"),
			format:      text,
			wantSeries:  seriesCounts(mustParseAll(t, repeat(1000, "go_f%04d 1\n"))),
			wantDropped: Dropped{SeriesLimit: 1000},
		},
		{
			name: "a histogram of 20,000 buckets is dropped whole, and the rest is kept",
			body: "go_threads 5\n# TYPE go_h_seconds histogram\n" + repeat(20000, "go_h_seconds_bucket{le=\"%d\"} 1\n") +
				"go_h_seconds_bucket{le=\"+Inf\"} 1\ngo_h_seconds_sum 1\ngo_h_seconds_count 1\ngo_goroutines 7\n",
			format:      text,
			wantSeries:  map[string]int{"go_threads": 1, "go_goroutines": 1},
			wantDropped: Dropped{SampleLimit: 1},
		},
		{
			name:        "a histogram family of 150 series keeps 100 whole series",
			body:        "# TYPE go_h_seconds histogram\n" + repeat(150, histogram("go_h_seconds", `i="%[1]d",`)),
			format:      text,
			wantSeries:  map[string]int{"go_h_seconds": 100},
			wantDropped: Dropped{FamilyLimit: 50},
		},
		{
			name:        "a family in two places is joined within its limit",
			body:        repeat(60, "go_split{i=\"%d\"} 1\n") + "go_threads 5\n" + repeat(60, "go_split{j=\"%d\"} 1\n"),
			format:      text,
			wantSeries:  map[string]int{"go_split": 100, "go_threads": 1},
			wantDropped: Dropped{FamilyLimit: 20},
		},
		{
			name:        "OpenMetrics counters are one series of _total and _created",
			body:        "# TYPE go_c counter\n" + repeat(101, "go_c_total{i=\"%[1]d\"} 1\ngo_c_created{i=\"%[1]d\"} 1\n") + "# EOF\n",
			format:      openMetrics,
			wantSeries:  map[string]int{"go_c_total": 100},
			wantDropped: Dropped{FamilyLimit: 1},
		},
		{
			name:        "the app's other families cost nothing",
			body:        repeat(300000, "http_requests_total{path=\"/%d\"} 1\n") + "go_threads 5\n",
			format:      text,
			wantSeries:  map[string]int{"go_threads": 1},
			wantDropped: Dropped{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fams, dropped, err := ParsePrometheus(strings.NewReader(tt.body), tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantSeries, seriesCounts(fams)); diff != "" {
				t.Errorf("series by family (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDropped, dropped); diff != "" {
				t.Errorf("dropped (-want +got):\n%s", diff)
			}
			for _, f := range fams {
				if f.GetName() != "go_h_seconds" {
					continue
				}
				for _, m := range f.GetMetric() {
					if h := m.GetHistogram(); len(h.GetBucket()) != 4 || h.GetSampleCount() != 1 {
						t.Errorf("a kept histogram series is not whole: %v", m)
					}
				}
			}
		})
	}
}

func TestParsePrometheusRefusesWhatItCannotBound(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		format  expfmt.Format
		wantErr string
	}{
		{name: "a family in two places with two types", body: "# TYPE go_x gauge\ngo_x 1\ngo_y 1\n# TYPE go_x counter\ngo_x 2\n",
			format: expfmt.NewFormat(expfmt.TypeTextPlain), wantErr: "family go_x appears twice, as GAUGE and COUNTER"},
		{name: "a family with descriptor lines over and over", body: strings.Repeat("# HELP go_x x\n", 1000) + "go_x 1\n",
			format: expfmt.NewFormat(expfmt.TypeTextPlain), wantErr: "more than 3 HELP, TYPE and UNIT lines"},
		{name: "OpenMetrics data after # EOF", body: "go_x 1\n# EOF\ngo_y 2\n",
			format: expfmt.NewFormat(expfmt.TypeOpenMetrics), wantErr: "data after # EOF"},
		{name: "a protobuf family message over 1 MiB", body: protoBody(t, &dto.MetricFamily{Name: ptr("go_big"), Help: ptr(strings.Repeat("x", 2<<20)), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: ptr(1.0)}}}}), format: expfmt.NewFormat(expfmt.TypeProtoDelim), wantErr: "more than the 1048576 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParsePrometheus(strings.NewReader(tt.body), tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParsePrometheusReadsDelimitedProtobufWithinTheLimits(t *testing.T) {
	var fams []*dto.MetricFamily
	big := &dto.MetricFamily{Name: ptr("go_many"), Type: dto.MetricType_GAUGE.Enum()}
	for i := range 150 {
		big.Metric = append(big.Metric, &dto.Metric{Label: []*dto.LabelPair{{Name: ptr("i"), Value: ptr(fmt.Sprint(i))}}, Gauge: &dto.Gauge{Value: ptr(1.0)}})
	}
	fams = append(fams, big,
		&dto.MetricFamily{Name: ptr("app_x"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: ptr(1.0)}}}},
		&dto.MetricFamily{Name: ptr("go_threads"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: ptr(5.0)}}}},
	)
	got, dropped, err := ParsePrometheus(strings.NewReader(protoBody(t, fams...)), expfmt.NewFormat(expfmt.TypeProtoDelim))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"go_many": 100, "go_threads": 1}, seriesCounts(got)); diff != "" {
		t.Errorf("series by family (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Dropped{FamilyLimit: 50}, dropped); diff != "" {
		t.Errorf("dropped (-want +got):\n%s", diff)
	}
}

// TestParsePrometheusMemoryIsBoundedWhileParsing is like the exposition
// that took the sidecar to 704 MiB: 350,000 distinct series in 7 MB. Parsing
// it must cost a small multiple of what is kept, not of what was sent.
func TestParsePrometheusMemoryIsBoundedWhileParsing(t *testing.T) {
	body := []byte(repeat(350000, "go_x{id=\"%06d\"} 1\n"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fams, _, err := ParsePrometheus(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	const mib = 1 << 20
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("%.1f MB body: %.1f MiB allocated while parsing, %d families kept", float64(len(body))/1e6, float64(allocated)/mib, len(fams))
	if allocated > 16*mib {
		t.Errorf("parsing allocated %.1f MiB, want at most 16 MiB", float64(allocated)/mib)
	}
}

// BenchmarkParsePrometheusHostile is the time to read past 350,000 series
// of one family, which the sampler must do within its timeout.
func BenchmarkParsePrometheusHostile(b *testing.B) {
	body := []byte(repeat(350000, "go_hostile{id=\"%06d\"} 1\n"))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParsePrometheus(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain)); err != nil {
			b.Fatal(err)
		}
	}
}

func fixtureText(t *testing.T) string { return fixture(t, "client-golang.prom") }

// mustParseAll parses a text exposition with expfmt alone, without limits,
// keeping the passed-through families.
func mustParseAll(t *testing.T, body string) []*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(strings.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain))
	var out []*dto.MetricFamily
	for {
		f := &dto.MetricFamily{}
		if err := dec.Decode(f); err != nil {
			break
		}
		if PassesThrough(f.GetName()) {
			out = append(out, f)
		}
	}
	return out
}

// protoBody encodes families as a delimited protobuf exposition.
func protoBody(t *testing.T, fams ...*dto.MetricFamily) string {
	t.Helper()
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func ptr[T any](v T) *T { return &v }
