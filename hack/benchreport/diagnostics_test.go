package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTheDiagnosticsRowsComeBackFromTheNodeAsTheyWereWritten(t *testing.T) {
	rows := []row{
		{group: diagGroup, figure: "RSS at rest", value: "21.0 MiB", target: "≤ 40.0 MiB", verdict: met},
		{group: diagGroup, figure: "heap | p95", value: "3s", floor: "1s", ratio: "p95 +2s", target: "p95 < 2s", verdict: missed},
		{group: diagGroup, figure: "RSS after", value: "30.0 MiB", target: "—"},
	}
	path := filepath.Join(t.TempDir(), "rows.json")
	if err := writeRows(path, rows); err != nil {
		t.Fatal(err)
	}
	got, err := readRows(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rows, got, cmp.AllowUnexported(row{})); diff != "" {
		t.Errorf("rows (-written +read):\n%s", diff)
	}
}

func TestNoRowsFromTheNodeIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rows.json")
	if err := writeRows(path, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := readRows(path); err == nil {
		t.Error("readRows of an empty list = nil error; want one")
	}
}

func TestNearestRankPicksTheSampleAtOrAboveTheQuantile(t *testing.T) {
	twenty := make([]time.Duration, 20)
	for i := range twenty {
		twenty[i] = time.Duration(20-i) * time.Second // unsorted on purpose
	}
	tests := []struct {
		name string
		ds   []time.Duration
		q    float64
		want time.Duration
	}{
		{name: "p95 of 20 is the 19th", ds: twenty, q: 0.95, want: 19 * time.Second},
		{name: "p50 of 20 is the 10th", ds: twenty, q: 0.5, want: 10 * time.Second},
		{name: "max of 20", ds: twenty, q: 1, want: 20 * time.Second},
		{name: "p50 of 3 is the middle", ds: []time.Duration{3, 1, 2}, q: 0.5, want: 2},
		{name: "one sample is every quantile", ds: []time.Duration{7}, q: 0.95, want: 7},
		{name: "none is 0", ds: nil, q: 0.95, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nearestRank(tt.ds, tt.q); got != tt.want {
				t.Errorf("nearestRank(%v, %g) = %v; want %v", tt.ds, tt.q, got, tt.want)
			}
		})
	}
}

func TestAnsweredRowsCountsOnlyPodsWithASample(t *testing.T) {
	out := `NAME        GOROUTINES   HEAP    GC/S   PAUSE-P99   ALLOC/S   FINDINGS
top-a-1     12           1.2Mi   0.00   120µs       2.0Ki     -
top-a-2     <timeout>
top-a-3     <no sample yet>
top-a-4     11           1.1Mi   0.10   90µs        1.0Ki     goroutine_leak

`
	if got := answeredRows([]byte(out)); got != 2 {
		t.Errorf("answeredRows = %d; want 2 (a timeout and a pod without a sample do not count)", got)
	}
	if got := answeredRows(nil); got != 0 {
		t.Errorf("answeredRows of nothing = %d; want 0", got)
	}
}

func TestParseRSSSplitsResidentMemoryIntoAnonymousAndFileBacked(t *testing.T) {
	status := "Name:\tdiagnostics\nVmRSS:\t   51404 kB\nRssAnon:\t   30720 kB\nRssFile:\t   20480 kB\nRssShmem:\t       204 kB\n"
	got, err := parseRSS(status)
	if err != nil {
		t.Fatal(err)
	}
	if want := (residentMemory{total: 51404 << 10, anon: 30 << 20, file: 20 << 20}); got != want {
		t.Errorf("parseRSS = %+v; want %+v", got, want)
	}
	if got.String() != "50.2 MiB (anonymous 30.0 MiB, file-backed 20.0 MiB)" {
		t.Errorf("String() = %q", got.String())
	}
	if _, err := parseRSS("Name:\tx\nVmRSS:\t1 kB\n"); err == nil {
		t.Error("parseRSS without RssAnon and RssFile = nil error; want one")
	}
}
