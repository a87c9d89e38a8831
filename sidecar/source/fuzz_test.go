package source

import (
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
)

// The parsers read whatever the app's port answers: none may panic, and
// whatever they accept must be consistent.

func FuzzParseExpvar(f *testing.F) {
	f.Add(fixture(f, "vars.json"))
	f.Add(fixture(f, "vars-wrapped.json"))
	f.Add(`{"memstats": {"NumGC": 4294967295, "PauseNs": [1, 2, 3]}}`)
	f.Add(`{"memstats": {"PauseNs": [` + strings.Repeat("18446744073709551615,", 300) + `0]}}`)
	f.Add(`[[[[[[[[{"memstats": null}]]]]]]]]`)
	f.Fuzz(func(t *testing.T, body string) {
		d, err := ParseExpvar([]byte(body))
		if err == nil && d == nil {
			t.Fatal("nil data without an error")
		}
	})
}

func FuzzParsePprofIndex(f *testing.F) {
	f.Add(fixture(f, "pprof-index.html"))
	f.Add(fixture(f, "pprof-index-old.html"))
	f.Add(fixture(f, "pprof-index-nocounts.html"))
	f.Add(`<a <a >goroutine</a></a>12<a>threadcreate</a>`)
	f.Fuzz(func(t *testing.T, body string) {
		c, err := ParsePprofIndex(strings.NewReader(body))
		if err == nil && !c.HasGoroutines {
			t.Fatal("success without a goroutine count")
		}
		if c.Goroutines < 0 || c.Threads < 0 {
			t.Fatalf("negative count %+v", c)
		}
	})
}

func FuzzParseGoroutineHeader(f *testing.F) {
	f.Add(fixture(f, "goroutine-debug1.txt"))
	f.Add("goroutine profile: total 0\n")
	f.Add("goroutine profile: total +5\n")
	f.Fuzz(func(t *testing.T, body string) {
		n, err := ParseGoroutineHeader(strings.NewReader(body))
		if err == nil && n < 0 {
			t.Fatalf("negative total %d", n)
		}
		if err == nil && !strings.HasPrefix(body, "goroutine profile: total ") {
			t.Fatalf("accepted %q", body)
		}
	})
}

func FuzzParsePrometheus(f *testing.F) {
	f.Add(fixture(f, "client-golang.prom"), false)
	f.Add("# TYPE go_x counter\ngo_x_total 1.0\n# EOF\n", true)
	f.Add("go_x{a=\"\\n\"} NaN\nprocess_y +Inf 123\n", false)
	f.Fuzz(func(t *testing.T, body string, openMetrics bool) {
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		if openMetrics {
			format = expfmt.NewFormat(expfmt.TypeOpenMetrics)
		}
		fams, _, err := ParsePrometheus(strings.NewReader(body), format)
		if err != nil {
			return
		}
		for i, f := range fams {
			if !PassesThrough(f.GetName()) {
				t.Fatalf("family %q passed through", f.GetName())
			}
			if i > 0 && fams[i-1].GetName() >= f.GetName() {
				t.Fatalf("families not sorted or duplicated: %q then %q", fams[i-1].GetName(), f.GetName())
			}
		}
	})
}

func FuzzParseGoroutineProfile(f *testing.F) {
	f.Add("goroutine profile: total 3\n2 @ 0x1 0x2\n#\t0x1\tmain.f+0x1\t/a.go:1\n\n1 @ 0x3\n# labels: {\"a\":\"b\"}\n#\t0x3\tmain.g+0x9\t/b.go:2\n")
	f.Add("goroutine profile: total 1\n-1 @ 0x1\n")
	f.Fuzz(func(t *testing.T, body string) {
		p, err := ParseGoroutineProfile(strings.NewReader(body))
		if err != nil {
			return
		}
		if len(p.Groups) > maxGoroutineGroups {
			t.Fatalf("%d groups kept, want at most %d", len(p.Groups), maxGoroutineGroups)
		}
		for _, g := range p.Groups {
			if g.Count < 0 || len(g.Frames) > MaxStackFrames {
				t.Fatalf("group %+v out of bounds", g)
			}
		}
	})
}
