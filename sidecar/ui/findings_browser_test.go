package ui_test

import (
	"encoding/json"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gopherscope/gopherscope/sidecar"
	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/history"
	"github.com/gopherscope/gopherscope/sidecar/ui"
)

// TestBrowserShowsTheFindingOfARunningSidecar runs the real sidecar against
// a Go target that reports its runtime through client_golang with no
// GOMEMLIMIT, under a container memory limit: the page shows the "no
// GOMEMLIMIT" warning with its evidence and advice.
func TestBrowserShowsTheFindingOfARunningSidecar(t *testing.T) {
	if prev := debug.SetMemoryLimit(-1); prev != math.MaxInt64 { // the test's env may set GOMEMLIMIT
		debug.SetMemoryLimit(math.MaxInt64)
		t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	target := http.NewServeMux()
	target.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	opts := targetOptions(t, target)
	opts.ExpvarPath, opts.PprofPath, opts.MetricsPath = "", "", "/metrics"
	opts.Limits = findings.Limits{MemoryBytes: 128 << 20}
	base := runSidecar(t, opts)

	deadline := time.Now().Add(20 * time.Second)
	for !hasFinding(t, base, findings.NoGOMEMLIMIT) {
		if time.Now().After(deadline) {
			t.Fatal("the sidecar raised no no_gomemlimit finding in 20s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	dom := ui.RunChromium(t, base+"/", "--dump-dom")
	item := findingItems(t, dom)["no_gomemlimit"]
	if !strings.Contains(dom, `<h2 id="h-findings">1 finding</h2>`) {
		t.Error("the heading does not count one finding")
	}
	for _, s := range []string{
		`<span class="severity">warning</span> <strong class="title">No GOMEMLIMIT</strong> <span class="since">since `,
		`<p class="advice">The Go runtime has no memory limit: set GOMEMLIMIT to about 90% of the container's memory limit`,
		`<span class="figure-name">container memory limit</span> <b class="figure-value">128 MiB</b>`,
		`<span class="figure-name">GOMEMLIMIT</span> <b class="figure-value">no limit (the maximum)</b>`,
	} {
		if !strings.Contains(item, s) {
			t.Errorf("the finding lacks %s", s)
		}
	}
	if !regexp.MustCompile(`<p class="window">Evidence at \d\d:\d\d:\d\d:</p>`).MatchString(item) {
		t.Error("the finding does not say when its evidence was taken")
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// hasFinding says whether the sidecar serves a finding of kind.
func hasFinding(t *testing.T, base string, kind findings.Kind) bool {
	t.Helper()
	resp, err := http.Get(base + sidecar.FindingsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var f sidecar.FindingsResponse
	if err := json.NewDecoder(resp.Body).Decode(&f); err != nil {
		t.Fatalf("decode the findings: %v", err)
	}
	for _, x := range f.Findings {
		if x.Kind == kind {
			return true
		}
	}
	return false
}

var findingTag = regexp.MustCompile(`<li class="finding ([^"]*)" data-kind="([^"]*)">`)

// findingItems splits the dumped DOM's finding list into its items by kind,
// in order, each with its class prefixed as `class="..."`.
func findingItems(t *testing.T, dom string) map[string]string {
	t.Helper()
	start := strings.Index(dom, `<ul id="finding-list">`)
	if start < 0 {
		t.Fatal("the page has no finding list")
	}
	list := dom[start:]
	list = list[:strings.Index(list, "</section>")]
	out := map[string]string{}
	tags := findingTag.FindAllStringSubmatchIndex(list, -1)
	for i, m := range tags {
		end := len(list)
		if i+1 < len(tags) {
			end = tags[i+1][0]
		}
		out[list[m[4]:m[5]]] = `class="` + list[m[2]:m[3]] + `" ` + list[m[1]:end]
	}
	return out
}

// cannedFindings serves the page, the history of a ring, and findings as
// GET /api/v1/findings does, and records every other path asked for.
func cannedFindings(t *testing.T, found []findings.Finding) (srv *httptest.Server, others func() []string) {
	t.Helper()
	body, err := json.Marshal(sidecar.FindingsResponse{Findings: found})
	if err != nil {
		t.Fatal(err)
	}
	ring := history.New(10)
	ring.Add(history.Point{Time: time.Now().Add(-time.Second), TargetUp: true})
	var mu sync.Mutex
	var asked []string
	mux := http.NewServeMux()
	mux.Handle("/{$}", ui.Handler())
	mux.Handle("/api/v1/history", history.Handler(ring, 10*time.Second))
	mux.HandleFunc(sidecar.FindingsPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, r.URL.Path)
		http.NotFound(w, r)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

func TestBrowserShowsFindingsWithTheirEvidenceAndStacks(t *testing.T) {
	from := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	growth := 12
	srv, _ := cannedFindings(t, []findings.Finding{
		{
			Kind: findings.GoroutineLeak, Severity: findings.Warning, Since: from.Add(3 * time.Minute),
			Advice: "Goroutines accumulate: make sure each goroutine can exit.",
			Evidence: findings.Evidence{From: from, To: from.Add(3 * time.Minute), Figures: []findings.Figure{
				{Name: "growth of the minimum", Value: 900, Unit: "goroutines"},
				{Name: "growth rate", Value: 5, Unit: "goroutines per second"},
			}},
			Stacks: []findings.Stack{
				{Function: "main.leak.func1", Count: 870, Growth: &growth, Frames: []string{"main.leak.func1 /app/main.go:42", "runtime.goexit"}},
				{Function: "net/http.(*conn).serve", Count: 4, Frames: []string{"net/http.(*conn).serve /go/net/http/server.go:2100"}, Leaked: true},
			},
			StacksRead: from.Add(4 * time.Minute),
		},
		{
			Kind: findings.MemoryNearLimit, Severity: findings.Critical, Since: from.Add(time.Minute),
			Advice: "Memory is close to the container's limit: raise the limit.",
			Evidence: findings.Evidence{From: from.Add(time.Minute), To: from.Add(6 * time.Minute), Figures: []findings.Figure{
				{Name: "heap in use", Value: 120 << 20, Unit: "bytes"},
				{Name: "share of the limit", Value: 0.9375, Unit: "ratio"},
				{Name: "growth over the last 1m0s", Value: 10 << 10, Unit: "bytes per second"},
				{Name: "time left at this growth", Value: 819.2, Unit: "seconds"},
			}},
		},
		{Kind: "a_future_kind", Severity: findings.Info, Since: from, Advice: "Something new.", Evidence: findings.Evidence{From: from, To: from}},
	})
	dom := ui.RunChromium(t, srv.URL+"/", "--dump-dom")

	if !strings.Contains(dom, `<h2 id="h-findings">3 findings</h2>`) {
		t.Error("the heading does not count three findings")
	}
	var order []string
	for _, m := range findingTag.FindAllStringSubmatch(dom, -1) {
		order = append(order, m[1]+" "+m[2])
	}
	if want := []string{"sev-critical memory_near_limit", "sev-warning goroutine_leak", "sev-info a_future_kind"}; !slices.Equal(order, want) {
		t.Errorf("findings shown %q, want the most urgent first: %q", order, want)
	}
	items := findingItems(t, dom)
	want := map[string][]string{
		"memory_near_limit": {
			`<span class="severity">critical</span> <strong class="title">Memory near the limit</strong> <span class="since">since 12:01:00</span>`,
			`<p class="advice">Memory is close to the container's limit: raise the limit.</p>`,
			`<p class="window">Evidence over 12:01:00–12:06:00 (5 min):</p>`,
			`heap in use</span> <b class="figure-value">120 MiB</b>`,
			`share of the limit</span> <b class="figure-value">93.8%</b>`,
			`growth over the last 1m0s</span> <b class="figure-value">10.0 KiB/s</b>`,
			`time left at this growth</span> <b class="figure-value">13.7 min</b>`,
		},
		"goroutine_leak": {
			`<span class="severity">warning</span> <strong class="title">Goroutine leak suspected</strong> <span class="since">since 12:03:00</span>`,
			`<p class="window">Evidence over 12:00:00–12:03:00 (3 min):</p>`,
			`growth of the minimum</span> <b class="figure-value">900 goroutines</b>`,
			`growth rate</span> <b class="figure-value">5 goroutines per second</b>`,
			`<details><summary><code class="function">main.leak.func1</code> <span class="count">870 goroutines</span> <span class="growth">+12 since the previous read</span></summary>` +
				`<ol class="frames"><li class="frame">main.leak.func1 /app/main.go:42</li><li class="frame">runtime.goexit</li></ol></details>`,
			`<p class="window">Where the goroutines wait, read at 12:04:00 (largest share first):</p>`,
			// No growth on the first read; the runtime's leak profile listed it.
			`<code class="function">net/http.(*conn).serve</code> <span class="count">4 goroutines</span> <span class="leaked">leaked: the runtime's leak profile lists them</span></summary>`,
		},
		"a_future_kind": {
			`<span class="severity">info</span> <strong class="title">a_future_kind</strong>`,
			`<p class="window">Evidence at 12:00:00:</p>`,
		},
	}
	for kind, parts := range want {
		for _, s := range parts {
			if !strings.Contains(items[kind], s) {
				t.Errorf("%s lacks %s", kind, s)
			}
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

func TestBrowserShowsTheAppsStringsAsText(t *testing.T) {
	const img = `<img src=x onerror="document.title='owned'">`
	growth := 1
	srv, asked := cannedFindings(t, []findings.Finding{{
		Kind: findings.Kind(img), Severity: findings.Severity(img), Advice: img, Since: time.Now(),
		Evidence: findings.Evidence{Figures: []findings.Figure{{Name: img, Value: 3, Unit: img}}},
		Stacks:   []findings.Stack{{Function: img, Count: 2, Growth: &growth, Frames: []string{img}}},
	}})
	dom := ui.RunChromium(t, srv.URL+"/", "--dump-dom")

	items := findingItems(t, dom)
	if len(items) != 1 {
		t.Fatalf("%d findings in the DOM, want the hostile one:\n%s", len(items), dom)
	}
	item := slices.Collect(maps.Values(items))[0]
	const text = `&lt;img src=x onerror="document.title='owned'"&gt;`
	for _, s := range []string{
		`<strong class="title">` + text + `</strong>`,
		`<p class="advice">` + text + `</p>`,
		`<span class="figure-name">` + text + `</span> <b class="figure-value">3 ` + text + `</b>`,
		`<code class="function">` + text + `</code>`,
		`<li class="frame">` + text + `</li>`,
		`<span class="severity">` + text + `</span>`,
	} {
		if !strings.Contains(item, s) {
			t.Errorf("the finding lacks %s", s)
		}
	}
	if strings.Contains(dom, "<img") || strings.Contains(dom, "owned</title>") {
		t.Errorf("an app's string became markup:\n%s", dom)
	}
	if slices.Contains(asked(), "/x") {
		t.Error("the browser fetched the injected image's /x")
	}
}
