package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGoBenchTakesTheMedianOfRuns(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/gopherscope/gopherscope/webhook
cpu: AMD EPYC
BenchmarkAdmissionReview/inject/typical-2   	    3156	    377191 ns/op	  11.88 MB/s	  116063 B/op	    1139 allocs/op
BenchmarkAdmissionReview/inject/typical-2   	    3000	    400000 ns/op	  11.00 MB/s	  116000 B/op	    1139 allocs/op
BenchmarkAdmissionReview/inject/typical-2   	    3100	    350000 ns/op	  12.00 MB/s	  116100 B/op	    1140 allocs/op
BenchmarkMetricsRender   	    9102	    130924 ns/op	  160272 B/op	     769 allocs/op
PASS
ok  	github.com/gopherscope/gopherscope/webhook	7.273s
`
	got, err := parseGoBench(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]goBench{
		"BenchmarkAdmissionReview/inject/typical": {NsPerOp: 377191, BytesPerOp: 116063, AllocsPerOp: 1139, Runs: 3},
		"BenchmarkMetricsRender":                  {NsPerOp: 130924, BytesPerOp: 160272, AllocsPerOp: 769, Runs: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseGoBench (-want +got):\n%s", diff)
	}
}

func TestParseGoBenchRefusesALineWithoutNsPerOp(t *testing.T) {
	_, err := parseGoBench(strings.NewReader("BenchmarkX-2  10  12 MB/s\n"))
	if err == nil || !strings.Contains(err.Error(), "no ns/op") {
		t.Errorf("error %v, want one about the missing ns/op", err)
	}
}

func TestMedianOfAnEvenNumberOfRunsIsTheMean(t *testing.T) {
	runs := []map[string]float64{{"ns/op": 4}, {"ns/op": 1}, {"ns/op": 3}, {"ns/op": 2}}
	if got := median(runs, "ns/op"); got != 2.5 {
		t.Errorf("median = %g, want 2.5", got)
	}
}

func TestTableMarksMissesAndWritesMarkdown(t *testing.T) {
	tb := &table{}
	tb.add(row{group: "g", figure: "fast | enough", value: "1 µs", target: "≤ 2 µs", verdict: judge(true)})
	tb.add(row{group: "g", figure: "slow", value: "3 µs", floor: "1 µs", ratio: ratio(3, 1), target: "≤ 2 µs", verdict: judge(false)})
	tb.add(row{group: "g", figure: "info", value: "7"})
	if got := tb.misses(); got != 1 {
		t.Errorf("misses = %d, want 1", got)
	}
	var md strings.Builder
	tb.markdown(&md)
	want := "| group | figure | value | floor | vs floor | target | |\n|---|---|---|---|---|---|---|\n" +
		"| g | fast \\| enough | 1 µs |  |  | ≤ 2 µs | ok |\n" +
		"| g | slow | 3 µs | 1 µs | ×3.00 | ≤ 2 µs | **MISS** |\n" +
		"| g | info | 7 |  |  |  |  |\n"
	if diff := cmp.Diff(want, md.String()); diff != "" {
		t.Errorf("markdown (-want +got):\n%s", diff)
	}
	var text strings.Builder
	if err := tb.print(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "MISS") || strings.Count(text.String(), "\n") != 4 {
		t.Errorf("printed table:\n%s\nwant a header and 3 rows, one marked MISS", text.String())
	}
}

func TestSummaryCountsTargetsAndNamesMisses(t *testing.T) {
	tests := []struct {
		name    string
		verdict []verdict
		want    string
	}{
		{name: "every target met", verdict: []verdict{met, noTarget, met}, want: "2 of 2 targets met"},
		{name: "two misses are named in order", verdict: []verdict{missed, met, noTarget, missed},
			want: "1 of 3 targets met; misses: g: figure 0; g: figure 3"},
		{name: "no target at all", verdict: []verdict{noTarget}, want: "0 of 0 targets met"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &table{}
			for i, v := range tt.verdict {
				tb.add(row{group: "g", figure: fmt.Sprintf("figure %d", i), verdict: v})
			}
			if got := tb.summary(); got != tt.want {
				t.Errorf("summary = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatNs(t *testing.T) {
	for ns, want := range map[float64]string{512: "512 ns", 93787: "93.8 µs", 22230022: "22.23 ms", 2.5e9: "2.50 s"} {
		if got := formatNs(ns); got != want {
			t.Errorf("formatNs(%g) = %q, want %q", ns, got, want)
		}
	}
	if got := ratio(1, 0); got != "—" {
		t.Errorf("ratio over a zero floor = %q, want —", got)
	}
}
