package sidecar

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeTarget is an app's debug server whose answers the test changes
// between samples: each path answers its current body, or 404.
type fakeTarget struct {
	srv *httptest.Server
	mu  sync.Mutex
	// responses maps a request URI (path and query) to a handler.
	responses map[string]http.HandlerFunc
}

func newFakeTarget(t testing.TB) *fakeTarget {
	t.Helper()
	ft := &fakeTarget{responses: map[string]http.HandlerFunc{}}
	ft.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("debug") == "2" {
			t.Errorf("the sidecar requested %s: a full stack dump, which it must never do", r.URL)
		}
		ft.mu.Lock()
		h := ft.responses[r.URL.RequestURI()]
		ft.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(ft.srv.Close)
	return ft
}

// serve sets what the target answers: request URI -> handler. A nil map
// makes every path 404.
func (ft *fakeTarget) serve(responses map[string]http.HandlerFunc) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.responses = responses
}

func (ft *fakeTarget) port() int { return ft.srv.Listener.Addr().(*net.TCPAddr).Port }

// body answers with fixed bytes and a content type.
func body(contentType string, b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(b)
	}
}

func fixtureBody(t testing.TB, name string) http.HandlerFunc {
	ct := "text/plain; version=0.0.4; charset=utf-8"
	switch filepath.Ext(name) {
	case ".json":
		ct = "application/json; charset=utf-8"
	case ".html":
		ct = "text/html; charset=utf-8"
	}
	return body(ct, readFixture(t, name))
}

// testOptions are options for a sampler against the fake target.
func testOptions(port int, metricsPath string) Options {
	o := DefaultOptions()
	o.TargetPorts = []int{port}
	o.MetricsPath = metricsPath
	o.Interval = time.Second
	o.Timeout = 500 * time.Millisecond
	return o
}

func testLogger(t *testing.T) logr.Logger {
	if testing.Verbose() {
		return testr.New(t)
	}
	return logr.Discard()
}

// render serves the sampler's /metrics once and returns the body.
func render(t testing.TB, s *Sampler) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	MetricsHandler(s, logr.Discard()).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// volatile are the health series whose values change from run to run.
var volatile = []string{"gopherscope_scrape_duration_seconds", "gopherscope_last_sample_timestamp_seconds"}

// stable drops the sample lines of the volatile series (keeping their HELP
// and TYPE lines, so the golden files still show they exist).
func stable(exposition []byte) []byte {
	var out bytes.Buffer
	for line := range strings.Lines(string(exposition)) {
		drop := false
		for _, v := range volatile {
			if strings.HasPrefix(line, v+" ") || strings.HasPrefix(line, v+"{") {
				drop = true
			}
		}
		if !drop {
			out.WriteString(line)
		}
	}
	return out.Bytes()
}

// promtool returns the path of promtool: $PROMTOOL or the repository's
// bin/promtool (built by `make tools`). Its absence fails the test.
func promtool(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PROMTOOL"); p != "" {
		return p
	}
	p, err := filepath.Abs(filepath.Join("..", "bin", "promtool"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("promtool not found at %s (run `make tools` or set PROMTOOL): %v", p, err)
	}
	return p
}

// checkWithPromtool runs `promtool check metrics` on an exposition and fails
// on any complaint.
func checkWithPromtool(t testing.TB, exposition []byte) {
	t.Helper()
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
