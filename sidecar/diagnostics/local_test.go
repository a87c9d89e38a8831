package diagnostics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gopherscope/gopherscope/sidecar/history"
)

// historyOf is the history handler on a ring holding one sample.
func historyOf(t *testing.T) (http.Handler, []byte) {
	t.Helper()
	ring := history.New(4)
	goroutines := 12.0
	ring.Add(history.Point{Time: time.Date(2025, 11, 26, 13, 0, 0, 0, time.UTC), Goroutines: &goroutines, TargetUp: true})
	h := history.Handler(ring, time.Second, history.WithPod("shop", "checkout"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/api/v1/history", nil))
	return h, rec.Body.Bytes()
}

func TestLocalResourcesAreNeitherRateLimitedNorExclusive(t *testing.T) {
	a := newApp(t)
	hist, want := historyOf(t)
	p := newLocalPort(t, Options{DumpsPerMinute: 1, DumpBurst: 1}, func() (string, error) { return a.url, nil }, Local{History: hist})
	c := p.diagnosticsClient(t)

	for i := range 5 {
		if got := get(t, c, p.url+"history"); got.status != http.StatusOK || string(got.body) != string(want) {
			t.Fatalf("history %d under a dump limit of 1: %d %q; want 200 with %q", i+1, got.status, got.body, want)
		}
	}
	first := make(chan answer, 1)
	go func() { first <- get(t, c, p.url+"profile?seconds=2") }()
	select {
	case <-a.profileStarted:
	case <-time.After(30 * time.Second):
		t.Fatal("the CPU profile never reached the app")
	}
	if got := get(t, c, p.url+"history"); got.status != http.StatusOK {
		t.Errorf("history during a CPU profile: %d %s; want 200", got.status, got.body)
	}
	if got := <-first; got.status != http.StatusOK {
		t.Errorf("the CPU profile: %d %v %s", got.status, got.err, got.body)
	}
	if n := a.calls.Load(); n != 1 {
		t.Errorf("the app was called %d times; want once, for the profile alone", n)
	}
	if lines := p.log.Matching(`"msg"="diagnostics request"`, `"resource"="history"`, `"status"=200`); len(lines) != 6 {
		t.Errorf("want one audit line per history read, 6; got %d:\n%s", len(lines), p.log)
	}
}

func TestLocalResourcesNeedNoPprof(t *testing.T) {
	hist, want := historyOf(t)
	p := newLocalPort(t, Options{}, func() (string, error) { return "", ErrPprofDisabled }, Local{History: hist})
	c := p.diagnosticsClient(t)
	if got := get(t, c, p.url+"history"); got.status != http.StatusOK || string(got.body) != string(want) {
		t.Errorf("history of a sidecar without pprof: %d %q", got.status, got.body)
	}
	if got := get(t, c, p.url+"heap"); got.status != http.StatusNotFound || !strings.Contains(string(got.body), "does not read the app's pprof") {
		t.Errorf("heap of a sidecar without pprof: %d %q", got.status, got.body)
	}
}

func TestLocalResourcesRefuseWithAReason(t *testing.T) {
	hist, _ := historyOf(t)
	p := newLocalPort(t, Options{}, func() (string, error) { return "", ErrPprofDisabled }, Local{History: hist})
	c := p.diagnosticsClient(t)
	for _, tc := range []struct {
		name, method, path string
		status             int
		reason, allow      string
	}{
		{"a query parameter", "GET", "history?seconds=5", 400, `history takes no query parameters, got "seconds=5"`, ""},
		{"an empty parameter", "GET", "history?&", 400, `history takes no query parameters, got "&"`, ""},
		{"a long query, cut in the reason", "GET", "history?" + strings.Repeat("a", 400), 400, "history takes no query parameters, got \"" + strings.Repeat("a", 256) + "…\"", ""},
		{"a write", "POST", "history", 405, "POST is not allowed: the diagnostics resources are read-only (GET, HEAD)", "GET, HEAD"},
		{"a delete", "DELETE", "stats", 405, "DELETE is not allowed", "GET, HEAD"},
		{"a sidecar without stats", "GET", "stats", 404, "this sidecar does not serve stats", ""},
		{"HEAD of a profile", "HEAD", "heap", 405, "", "GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, p.url+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(got), tc.reason) || resp.Header.Get("Allow") != tc.allow {
				t.Errorf("%d %q (Allow %q); want %d with %q (Allow %q)", resp.StatusCode, got, resp.Header.Get("Allow"), tc.status, tc.reason, tc.allow)
			}
		})
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, p.url+"history", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD history: %d %q; want 200 JSON", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if lines := p.log.Matching(`"msg"="diagnostics request"`); len(lines) != 8 || !strings.Contains(lines[0], `"reason"="history takes no query parameters`) {
		t.Errorf("want one audit line per request, with its reason, 8; got %d:\n%s", len(lines), strings.Join(lines, "\n"))
	}
}
