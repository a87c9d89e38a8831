package source

import (
	"expvar"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// busyExpvar is this test process's /debug/vars after more garbage
// collections than MemStats remembers, so PauseNs and PauseEnd are full, as
// they are in an app that has run for a while.
func busyExpvar(tb testing.TB) []byte {
	tb.Helper()
	for range 300 {
		runtime.GC()
	}
	rec := httptest.NewRecorder()
	expvar.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/vars", nil))
	return rec.Body.Bytes()
}

// BenchmarkParseExpvar is the parsing of one sample of a busy app's expvar.
func BenchmarkParseExpvar(b *testing.B) {
	body := busyExpvar(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseExpvar(body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseExpvarFastReadsRealBodiesAndLeavesTheRestToEncodingJSON(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantFast bool
	}{
		{name: "a busy app's /debug/vars is read in one pass", body: string(busyExpvar(t)), wantFast: true},
		{name: "a fixture of a real /debug/vars is read in one pass", body: fixture(t, "vars.json"), wantFast: true},
		{name: "vars the app adds itself are skipped in one pass", body: fixture(t, "vars-wrapped.json"), wantFast: true},
		{name: "more pauses than MemStats holds are checked and dropped", body: `{"memstats": {"PauseNs": [` + strings.Repeat("7,", 300) + `"x"]}}`, wantFast: true},
		{name: "a field in another letter case", body: `{"memstats": {"alloc": 1}}`},
		{name: "memstats in another letter case", body: `{"MemStats": {"Alloc": 1}}`},
		{name: "a repeated field", body: `{"memstats": {"Alloc": 1, "Alloc": 2}}`},
		{name: "a repeated memstats", body: `{"memstats": {"Alloc": 1}, "memstats": {"Sys": 2}}`},
		{name: "an escaped key", body: `{"memstats": {"\u0041lloc": 1}}`},
		{name: "a fraction in a kept field", body: `{"memstats": {"Alloc": 1.0}}`},
		{name: "a negative count", body: `{"memstats": {"NumGC": -1}}`},
		{name: "a count too large for NumGC", body: `{"memstats": {"NumGC": 4294967296}}`},
		{name: "null for a field", body: `{"memstats": {"Alloc": null}}`},
		{name: "null memstats", body: `{"memstats": null}`},
		{name: "no memstats", body: `{"cmdline": []}`},
		{name: "invalid JSON in a skipped var", body: `{"x": [1,], "memstats": {}}`},
		{name: "a control character in a skipped string", body: "{\"x\": \"a\x01\", \"memstats\": {}}"},
		{name: "a bad escape in a skipped string", body: `{"x": "\q", "memstats": {}}`},
		{name: "a leading zero in a skipped number", body: `{"x": 01, "memstats": {}}`},
		{name: "text after the object", body: `{"memstats": {}} x`},
		{name: "a body that is not an object", body: `[{"memstats": {}}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, ok := parseExpvarFast([]byte(tt.body))
			if ok != tt.wantFast {
				t.Fatalf("read in one pass: %v, want %v", ok, tt.wantFast)
			}
			slow, err := parseExpvarJSON([]byte(tt.body))
			if ok && err != nil {
				t.Fatalf("read in one pass what encoding/json refuses: %v", err)
			}
			if ok {
				if diff := cmp.Diff(slow, fast); diff != "" {
					t.Errorf("(-encoding/json +one pass):\n%s", diff)
				}
			}
		})
	}
}
