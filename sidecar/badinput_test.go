package sidecar

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gopherscope/gopherscope/internal/testlog"
	"github.com/gopherscope/gopherscope/sidecar/history"
)

// The bad-input catalogue, sidecar side: a hostile /debug/vars served to a
// real Sampler next to a healthy pprof index. A body it cannot read takes
// the expvar source down with a log line that says why; it never takes the
// sidecar, the other source or the history with it. A body it can read
// yields exactly the values in it.

// memstatsJSON is a small valid memstats object: heap in use 4096.
const memstatsJSON = `{"Alloc":1,"TotalAlloc":2,"Sys":3,"Mallocs":4,"Frees":1,"HeapInuse":4096,"NumGC":0}`

func TestHostileExpvarIsRefusedClearlyAndLosesNothingElse(t *testing.T) {
	nested := func(levels int) string { return strings.Repeat("[", levels) + strings.Repeat("]", levels) }
	maxUint := "18446744073709551615"
	tests := []struct {
		name string
		body string
		// wantErr is a fragment of the "source down" log line's error; ""
		// means the body is read.
		wantErr string
		// wantHeap is go_memstats_heap_inuse_bytes when the body is read.
		wantHeap float64
	}{
		{name: "10,000 levels of nesting in another variable", body: `{"memstats":` + memstatsJSON + `,"x":` + nested(10000) + `}`, wantErr: "exceeded max depth"},
		{name: "9,998 levels of nesting in another variable are skipped", body: `{"memstats":` + memstatsJSON + `,"x":` + nested(9998) + `}`, wantHeap: 4096},
		{name: "1e400 in memstats", body: `{"memstats":{"HeapInuse":1e400}}`, wantErr: "cannot unmarshal number 1e400 into Go struct field MemStats.memstats.HeapInuse of type uint64"},
		{name: "1e400 in the app's own variable is skipped", body: `{"requests":1e400,"memstats":` + memstatsJSON + `}`, wantHeap: 4096},
		{name: "a negative number in memstats", body: `{"memstats":{"HeapInuse":-1}}`, wantErr: "cannot unmarshal number -1"},
		{name: "a fraction in memstats", body: `{"memstats":{"HeapInuse":1.5}}`, wantErr: "cannot unmarshal number 1.5"},
		{name: "the NaN token", body: `{"memstats":{"HeapInuse":NaN}}`, wantErr: "invalid character 'N'"},
		{name: "the Infinity token", body: `{"memstats":{"HeapInuse":Infinity}}`, wantErr: "invalid character 'I'"},
		{name: "memstats twice: the last one counts, as in encoding/json", body: `{"memstats":{"HeapInuse":1},"memstats":{"HeapInuse":8192}}`, wantHeap: 8192},
		{name: "a key twice in memstats: the last one counts", body: `{"memstats":{"HeapInuse":1,"HeapInuse":12288}}`, wantHeap: 12288},
		{name: "the largest uint64", body: `{"memstats":{"HeapInuse":` + maxUint + `}}`, wantHeap: 18446744073709551615},
		{name: "one past the largest uint64", body: `{"memstats":{"HeapInuse":18446744073709551616}}`, wantErr: "cannot unmarshal number 18446744073709551616"},
		{name: "memstats as a string", body: `{"memstats":"lots"}`, wantErr: "cannot unmarshal string into Go struct field"},
		{name: "NumGC as a string", body: `{"memstats":{"NumGC":"4"}}`, wantErr: "cannot unmarshal string into Go struct field MemStats.memstats.NumGC of type uint32"},
		{name: "PauseNs as an object", body: `{"memstats":{"PauseNs":{}}}`, wantErr: "cannot unmarshal object into Go struct field MemStats.memstats.PauseNs"},
		{name: "cmdline as a string does not hide memstats", body: `{"cmdline":"/app --token=x","memstats":` + memstatsJSON + `}`, wantHeap: 4096},
		{name: "cmdline as a number does not hide memstats", body: `{"cmdline":1e400,"memstats":` + memstatsJSON + `}`, wantHeap: 4096},
		{name: "memstats null", body: `{"memstats":null}`, wantErr: "no memstats"},
		{name: "an empty object", body: `{}`, wantErr: "no memstats"},
		{name: "a top-level array", body: `[` + memstatsJSON + `]`, wantErr: "cannot unmarshal array"},
		{name: "a byte order mark first", body: "\ufeff{\"memstats\":" + memstatsJSON + "}", wantErr: "invalid character 'ï'"},
		{name: "garbage after the object", body: `{"memstats":` + memstatsJSON + `} <html>`, wantErr: "invalid character '<' after top-level value"},
		{name: "invalid UTF-8 in another variable is skipped", body: "{\"name\":\"\xff\xfe\",\"memstats\":" + memstatsJSON + "}", wantHeap: 4096},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := newFakeTarget(t)
			target.serve(map[string]http.HandlerFunc{
				varsPath:  body("application/json", []byte(tt.body)),
				indexPath: fixtureBody(t, "pprof-index.html"),
			})
			logs := &testlog.Lines{}
			ring := history.New(10)
			s := NewSampler(testOptions(target.port(), ""), ring, logs.Logger())
			defer s.Close()
			s.SampleOnce(t.Context())

			got := health(t, s)
			if got["gopherscope_target_up{}"] != 1 || got["gopherscope_source_up{source=pprof}"] != 1 {
				t.Errorf("target up %v, pprof up %v; want both 1: the pprof index answered", got["gopherscope_target_up{}"], got["gopherscope_source_up{source=pprof}"])
			}
			if got["go_goroutines{}"] != 1 {
				t.Errorf("go_goroutines = %v, want the pprof index's 1", got["go_goroutines{}"])
			}
			if ring.Len() != 1 {
				t.Errorf("history holds %d points, want 1", ring.Len())
			}
			heap, hasHeap := got["go_memstats_heap_inuse_bytes{}"]
			if tt.wantErr != "" {
				if got["gopherscope_source_up{source=expvar}"] != 0 || hasHeap {
					t.Errorf("expvar up %v, heap %v (present %v); want the source down and no memstats", got["gopherscope_source_up{source=expvar}"], heap, hasHeap)
				}
				line := logs.Find(`"msg"="source down"`, `"source"="expvar"`, tt.wantErr)
				if line == "" {
					t.Errorf("no source-down log line for expvar with %q; log:\n%s", tt.wantErr, logs)
				}
				if len(line) > 1024 {
					t.Errorf("the log line is %d bytes long: it must not echo the body", len(line))
				}
				return
			}
			if got["gopherscope_source_up{source=expvar}"] != 1 || heap != tt.wantHeap {
				t.Errorf("expvar up %v, heap %v; want 1 and %v", got["gopherscope_source_up{source=expvar}"], heap, tt.wantHeap)
			}
		})
	}
}
