package source

import (
	"errors"
	"expvar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
)

// fixture reads a file of sidecar/testdata/fixtures, captured from real Go
// programs (expvar, net/http/pprof and client_golang as they serve them).
func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseExpvar(t *testing.T) {
	real := fixture(t, "vars.json")
	tests := []struct {
		name    string
		body    string
		check   func(t *testing.T, d *ExpvarData)
		wantErr string
	}{
		{
			name: "a real /debug/vars yields its memstats and command line",
			body: real,
			check: func(t *testing.T, d *ExpvarData) {
				ms := d.MemStats
				got := []uint64{ms.Alloc, ms.TotalAlloc, ms.Sys, ms.Mallocs, ms.Frees, ms.HeapInuse, ms.NextGC, ms.PauseTotalNs, uint64(ms.NumGC), ms.PauseNs[0], ms.PauseNs[4], ms.PauseNs[5]}
				want := []uint64{458968, 1418480, 8755464, 3242, 1835, 1253376, 4194304, 1755499, 5, 187578, 224924, 0}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("memstats (-want +got):\n%s", diff)
				}
				if d.CmdlineHash == 0 {
					t.Error("the command line was not hashed")
				}
			},
		},
		{
			name: "vars the app adds itself are skipped",
			body: `{"myapp": {"nested": [1, 2, {"x": "y"}]}, "memstats": {"NumGC": 3, "Alloc": 10}, "other": 1e300}`,
			check: func(t *testing.T, d *ExpvarData) {
				if d.MemStats.NumGC != 3 || d.MemStats.Alloc != 10 || d.CmdlineHash != 0 {
					t.Errorf("got %+v, want NumGC 3, Alloc 10 and no command line", d)
				}
			},
		},
		{name: "a body without memstats is an error", body: `{"cmdline": ["x"]}`, wantErr: "no memstats"},
		{name: "null is an error", body: `null`, wantErr: "no memstats"},
		{name: "invalid JSON is an error", body: `{"memstats": {"Alloc": }`, wantErr: "invalid character"},
		{name: "a number too large for its field is an error", body: `{"memstats": {"Alloc": 1e30}}`, wantErr: "cannot unmarshal"},
		{name: "a negative count is an error", body: `{"memstats": {"NumGC": -1}}`, wantErr: "cannot unmarshal"},
		{name: "NaN is not JSON", body: `{"memstats": {"Alloc": NaN}}`, wantErr: "invalid character"},
		{name: "deep nesting is an error, not a crash", body: `{"x": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `, "memstats": {}}`, wantErr: "exceeded max depth"},
		{name: "an empty body is an error", body: ``, wantErr: "unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseExpvar([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, d)
		})
	}
}

func TestParsePprofIndex(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    ProfileCounts
		wantErr error
	}{
		{
			name: "the index of current Go lists goroutine and threadcreate counts",
			body: fixture(t, "pprof-index.html"),
			want: ProfileCounts{Goroutines: 1, Threads: 6, HasGoroutines: true, HasThreads: true},
		},
		{
			name: "the index of older Go versions is understood too",
			body: fixture(t, "pprof-index-old.html"),
			want: ProfileCounts{Goroutines: 41, Threads: 12, HasGoroutines: true, HasThreads: true},
		},
		{
			name:    "a page listing profiles without counts is an error",
			body:    fixture(t, "pprof-index-nocounts.html"),
			wantErr: errNoCounts,
		},
		{
			name: "a goroutine count alone is enough",
			body: `<tr><td>12</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr>`,
			want: ProfileCounts{Goroutines: 12, HasGoroutines: true},
		},
		{
			name:    "a count too large for int64 is not a count",
			body:    `<tr><td>99999999999999999999999</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr>`,
			wantErr: errNoCounts,
		},
		{name: "an unrelated page is an error", body: `<html><body>hello 42</body></html>`, wantErr: errNoCounts},
		{name: "an unterminated anchor is an error", body: `7 <a href="goroutine?debug=1">goroutine`, wantErr: errNoCounts},
		{name: "an empty body is an error", body: ``, wantErr: errNoCounts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePprofIndex(strings.NewReader(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("counts (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestParseGoroutineHeader(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    int64
		wantErr bool
	}{
		{name: "the real debug=1 output yields its total", body: fixture(t, "goroutine-debug1.txt"), want: 1},
		{name: "a header alone without a newline is read", body: "goroutine profile: total 523", want: 523},
		{name: "CRLF line endings are accepted", body: "goroutine profile: total 7\r\n1 @ 0x1\n", want: 7},
		{name: "another profile is an error", body: "heap profile: 1: 2 [3: 4] @ heap/1048576\n", wantErr: true},
		{name: "a negative total is an error", body: "goroutine profile: total -3\n", wantErr: true},
		{name: "a total that is not a number is an error", body: "goroutine profile: total many\n", wantErr: true},
		{name: "a first line longer than the cap is an error", body: "goroutine profile: total 1" + strings.Repeat("0", 1000) + "\n", wantErr: true},
		{name: "an empty body is an error", body: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGoroutineHeader(strings.NewReader(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("total = %d, want %d", got, tt.want)
			}
		})
	}
}

func familyNames(t *testing.T, body string, format expfmt.Format) []string {
	t.Helper()
	fams, _, err := ParsePrometheus(strings.NewReader(body), format)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(fams))
	for i, f := range fams {
		names[i] = f.GetName()
	}
	return names
}

func TestParsePrometheusKeepsOnlyGoAndProcessFamilies(t *testing.T) {
	text := familyNames(t, fixture(t, "client-golang.prom"), expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, name := range text {
		if !PassesThrough(name) {
			t.Errorf("family %s passed through", name)
		}
	}
	for _, want := range []string{"go_goroutines", "go_info", "go_gc_duration_seconds", "go_memstats_alloc_bytes_total", "go_sched_latencies_seconds", "process_start_time_seconds"} {
		if !contains(text, want) {
			t.Errorf("family %s is missing from %v", want, text)
		}
	}
	unknown := familyNames(t, fixture(t, "client-golang.prom"), expfmt.FmtUnknown)
	if diff := cmp.Diff(text, unknown); diff != "" {
		t.Errorf("an unknown content type is not read as text (-text +unknown):\n%s", diff)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestParsePrometheus(t *testing.T) {
	text := expfmt.NewFormat(expfmt.TypeTextPlain)
	tests := []struct {
		name    string
		body    string
		want    []string
		wantErr bool
	}{
		{name: "app series are dropped before parsing", body: "# TYPE app_x counter\napp_x{a=\"b\"} 1\ngo_goroutines 3\n", want: []string{"go_goroutines"}},
		{name: "a malformed app series does not matter", body: "app_x{{{ broken\ngo_threads 5\n", want: []string{"go_threads"}},
		{name: "leading white space is tolerated", body: "  go_threads 5\n", want: []string{"go_threads"}},
		{name: "a last line without newline is read", body: "go_threads 5", want: []string{"go_threads"}},
		{name: "a very long app line is skipped", body: "app_x{l=\"" + strings.Repeat("a", 200000) + "\"} 1\ngo_threads 5\n", want: []string{"go_threads"}},
		{name: "a malformed go series is an error", body: "go_goroutines{ 3\n", wantErr: true},
		{name: "a non-numeric value is an error", body: "go_goroutines many\n", wantErr: true},
		{name: "a duplicate HELP is an error", body: "# HELP go_x a\n# HELP go_x b\ngo_x 1\n", wantErr: true},
		{name: "an empty body yields nothing", body: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fams, _, err := ParsePrometheus(strings.NewReader(tt.body), text)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tt.wantErr)
			}
			var got []string
			for _, f := range fams {
				got = append(got, f.GetName())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("families (-want +got):\n%s", diff)
			}
		})
	}
}

// client_golang's own OpenMetrics output cannot be read by expfmt's strict
// OpenMetrics parser (go_memstats_alloc_bytes_total's family is named
// go_memstats_alloc_bytes, like the gauge), which is why the source asks for
// the text format only; an app that answers OpenMetrics regardless is read
// with that parser.
func TestParsePrometheusReadsOpenMetrics(t *testing.T) {
	body := "# HELP app_x An app series.\n# TYPE app_x counter\napp_x_total 4.0\n" +
		"# HELP go_threads Number of OS threads created.\n# TYPE go_threads gauge\ngo_threads 5.0\n" +
		"# TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\nprocess_cpu_seconds_total 1.5\n# EOF\n"
	fams, _, err := ParsePrometheus(strings.NewReader(body), expfmt.NewFormat(expfmt.TypeOpenMetrics))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fams {
		got = append(got, f.GetName()+" "+f.GetType().String())
	}
	want := []string{"go_threads GAUGE", "process_cpu_seconds_total COUNTER"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("families (-want +got):\n%s", diff)
	}
}

func TestParsePrometheusOpenMetricsWithoutEOFIsAnError(t *testing.T) {
	_, _, err := ParsePrometheus(strings.NewReader("# TYPE go_threads gauge\ngo_threads 5\n"), expfmt.NewFormat(expfmt.TypeOpenMetrics))
	if err == nil {
		t.Fatal("an OpenMetrics body without # EOF was accepted")
	}
}

// BenchmarkParseExpvar is the parsing of one sample of a busy app's expvar:
// this test process's /debug/vars after more garbage collections than
// MemStats remembers, so PauseNs and PauseEnd are full.
func BenchmarkParseExpvar(b *testing.B) {
	for range 300 {
		runtime.GC()
	}
	rec := httptest.NewRecorder()
	expvar.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/vars", nil))
	body := rec.Body.Bytes()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseExpvar(body); err != nil {
			b.Fatal(err)
		}
	}
}
