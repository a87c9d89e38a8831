package ui_test

import (
	"context"
	"encoding/json"
	"expvar"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/gopherscope/gopherscope/sidecar"
	"github.com/gopherscope/gopherscope/sidecar/ui"
)

// TestBrowserLoadsThePageFromARunningSidecar runs the real sidecar against a
// real Go target (this test process's expvar and pprof) and loads its "/"
// in headless Chromium: the page must chart what the sampler recorded.
func TestBrowserLoadsThePageFromARunningSidecar(t *testing.T) {
	target := http.NewServeMux()
	target.Handle("/debug/vars", expvar.Handler())
	target.HandleFunc("/debug/pprof/", pprof.Index)
	runtime.GC() // so the GC pause quantiles exist
	opts := targetOptions(t, target)
	opts.PodName, opts.PodNamespace = "demo-6f9c", "shop"
	base := runSidecar(t, opts)

	// Wait for three samples with goroutines, like a person would.
	deadline := time.Now().Add(20 * time.Second)
	for n := 0; n < 3; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the sidecar recorded %d samples with goroutines in 20s, want 3", n)
		}
		n = upSamples(t, base)
	}

	dom := ui.RunChromium(t, base+"/", "--dump-dom")
	for _, chart := range []string{"goroutines", "heap", "gc", "alloc"} {
		m := regexp.MustCompile(`<section id="chart-` + chart + `"[^>]*data-points="(\d+)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Errorf("chart %s was not drawn", chart)
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n < 2 {
			t.Errorf("chart %s has %d points, want at least 2", chart, n)
		}
	}
	for _, s := range []string{
		`<span id="pod">shop/demo-6f9c</span>`, `class="badge up">app up</span>`, "every 1s",
		`aria-labelledby="h-findings" data-count="0">`, // no limits, so no findings
		`<h2 id="h-findings">No findings</h2>`,
	} {
		if !strings.Contains(dom, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// upSamples counts the sidecar's history points that carry goroutines.
func upSamples(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/history")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var h struct {
		Points []struct {
			Goroutines *float64 `json:"goroutines"`
		} `json:"points"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("decode the history: %v", err)
	}
	n := 0
	for _, p := range h.Points {
		if p.Goroutines != nil {
			n++
		}
	}
	return n
}

// TestBrowserShowsWhyTheSidecarCannotReadTheApp runs the real sidecar against
// a port nothing listens on and loads its page: the page itself, not only
// /readyz, says what failed where and which annotation fixes it.
func TestBrowserShowsWhyTheSidecarCannotReadTheApp(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := closed.Addr().(*net.TCPAddr).Port
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	opts := sidecar.DefaultOptions()
	opts.TargetHost, opts.TargetPorts = "127.0.0.1", []int{port}
	opts.Interval, opts.History = time.Second, time.Minute
	base := runSidecar(t, opts)
	deadline := time.Now().Add(20 * time.Second)
	for !sampled(t, base) {
		if time.Now().After(deadline) {
			t.Fatal("the sidecar took no sample in 20s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	dom := ui.RunChromium(t, base+"/", "--dump-dom")
	p := strconv.Itoa(port)
	for _, s := range []string{
		`class="badge down">app down</span>`,
		`role="alert"`,
		"The sidecar cannot read the app",
		`data-source="expvar">expvar: <code>`,
		"<code>connection refused on :" + p + "/debug/vars</code>",
		"<code>connection refused on :" + p + "/debug/pprof</code>",
		"set the pod annotation gopherscope.io/port to the app's debug port",
	} {
		if !strings.Contains(dom, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}
}

// sampled says whether the sidecar has taken its first sample.
func sampled(t *testing.T, base string) bool {
	t.Helper()
	resp, err := http.Get(base + sidecar.SourcesPath)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var s sidecar.SourcesResponse
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("decode the sources: %v", err)
	}
	return len(s.Sources) > 0
}

// targetOptions serves target as the app and returns the sidecar's options
// for it: sampled every second, a minute of history, and a generous timeout
// so that the app counts as up while Chromium loads the machine.
func targetOptions(t *testing.T, target http.Handler) sidecar.Options {
	t.Helper()
	app := httptest.NewServer(target)
	t.Cleanup(app.Close)
	u, err := url.Parse(app.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	opts := sidecar.DefaultOptions()
	opts.TargetHost, opts.TargetPorts = "127.0.0.1", []int{port}
	opts.Interval, opts.History, opts.Timeout = time.Second, time.Minute, 5*time.Second
	return opts
}

// runSidecar serves the real sidecar with opts on a free port until the
// test ends and returns its base URL.
func runSidecar(t *testing.T, opts sidecar.Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- sidecar.Serve(ctx, ln, opts, testr.New(t)) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("sidecar.Serve = %v, want nil after cancel", err)
		}
	})
	return "http://" + ln.Addr().String()
}
