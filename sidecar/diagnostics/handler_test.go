package diagnostics

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/gopherscope/gopherscope/internal/testpki"
)

func TestOnlyTheDiagnosticsClientReachesTheApp(t *testing.T) {
	a := newApp(t)
	p := newPort(t, Options{}, func() (string, error) { return a.url, nil })
	other := testpki.NewCAForTest(t)
	noClientUsage := p.ca.IssueTLS(t, testpki.CertSpec{CommonName: DefaultClientName, Server: true})
	otherName := p.ca.IssueTLS(t, testpki.CertSpec{CommonName: "someone-else", Client: true})
	otherCA := other.IssueTLS(t, testpki.CertSpec{CommonName: DefaultClientName, Client: true})
	for _, tc := range []struct {
		name string
		cert *tls.Certificate
	}{
		{"no client certificate", nil},
		{"a certificate from another CA", &otherCA},
		{"a certificate from the CA for another name", &otherName},
		{"a certificate from the CA without client authentication usage", &noClientUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := get(t, p.client(tc.cert), p.url+"goroutine?debug=2")
			if got.err == nil {
				t.Fatalf("served %d with %d bytes; want the TLS handshake refused", got.status, len(got.body))
			}
		})
	}
	if n := a.calls.Load(); n != 0 {
		t.Errorf("the app was called %d times by refused clients", n)
	}
	if got := get(t, p.diagnosticsClient(t), p.url+"goroutine?debug=2"); got.err != nil || got.status != http.StatusOK {
		t.Fatalf("the diagnostics client: %d %v", got.status, got.err)
	}
}

func TestForwardsProfilesGoToolsOpen(t *testing.T) {
	a := newApp(t)
	p := newPort(t, Options{DumpBurst: 10}, func() (string, error) { return a.url, nil })
	c := p.diagnosticsClient(t)
	for _, name := range []string{"heap", "allocs", "goroutine", "mutex", "block", "profile?seconds=1"} {
		t.Run(name, func(t *testing.T) {
			got := get(t, c, p.url+name)
			if got.err != nil || got.status != http.StatusOK {
				t.Fatalf("%d %v: %s", got.status, got.err, got.body)
			}
			prof, err := profile.Parse(bytes.NewReader(got.body))
			if err != nil {
				t.Fatalf("parse the %s profile: %v", name, err)
			}
			if len(prof.SampleType) == 0 {
				t.Errorf("the %s profile has no sample types", name)
			}
		})
	}
	t.Run("goroutine?debug=2 names this test's goroutines", func(t *testing.T) {
		got := get(t, c, p.url+"goroutine?debug=2")
		if got.status != http.StatusOK || !strings.Contains(string(got.body), "TestForwardsProfilesGoToolsOpen") {
			t.Errorf("%d, body without this test's frames:\n%.500s", got.status, got.body)
		}
	})
	t.Run("trace?seconds=1 is a Go execution trace", func(t *testing.T) {
		got := get(t, c, p.url+"trace?seconds=1")
		if got.status != http.StatusOK || !bytes.HasPrefix(got.body, []byte("go 1.")) {
			t.Errorf("%d, body starts %q; want a trace header", got.status, got.body[:min(len(got.body), 16)])
		}
	})
	t.Run("one audit line per request, naming client, user, resource and bytes", func(t *testing.T) {
		lines := p.log.Matching(`"msg"="diagnostics request"`)
		if len(lines) != 8 {
			t.Fatalf("%d audit lines; want 8:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		for _, want := range []string{`"client"="gopherscope-diagnostics"`, `"user"="alice"`, `"resource"="heap"`, `"status"=200`} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("audit line %s lacks %s", lines[0], want)
			}
		}
		if strings.Contains(lines[0], `"bytes"=0`) {
			t.Errorf("audit line counts no bytes: %s", lines[0])
		}
	})
}

func TestRefusesWithAReason(t *testing.T) {
	a := newApp(t)
	p := newPort(t, Options{}, func() (string, error) { return a.url, nil })
	c := p.diagnosticsClient(t)
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		reason                   string
	}{
		{"an unknown resource", "GET", "threadcreate", "", 404, `no diagnostics resource "threadcreate": one of allocs, block, goroutine, heap, history, mutex, profile, stats, trace`},
		{"the app's command line", "GET", "cmdline", "", 404, `no diagnostics resource "cmdline"`},
		{"a symbol lookup", "POST", "symbol", "0x1", 405, "POST is not allowed"},
		{"a write", "POST", "heap", "", 405, "read-only (GET)"},
		{"a body", "GET", "heap", "x", 413, "carries no body"},
		{"a CPU profile longer than the API server waits", "GET", "profile?seconds=46", "", 400, "46s is longer than the maximum 45s"},
		{"seconds that are not a number", "GET", "trace?seconds=5m", "", 400, `"5m" is not a whole number of seconds`},
		{"an unknown parameter", "GET", "heap?debug=1&pid=1", "", 400, `heap takes no parameter "pid" (it takes: debug, gc, seconds)`},
		{"a parameter twice", "GET", "goroutine?debug=1&debug=2", "", 400, `parameter "debug" is given 2 times`},
		{"a debug level pprof does not have", "GET", "goroutine?debug=3", "", 400, `"3" is not one of 0, 1, 2`},
		{"a query over the limit", "GET", "heap?debug=" + strings.Repeat("1", 300), "", 400, "over the 256-byte limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequestWithContext(t.Context(), tc.method, p.url+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(got), tc.reason) {
				t.Errorf("%d %q; want %d with %q", resp.StatusCode, got, tc.status, tc.reason)
			}
		})
	}
	if n := a.calls.Load(); n != 0 {
		t.Errorf("refused requests reached the app %d times", n)
	}
	if lines := p.log.Matching(`"msg"="diagnostics request"`); len(lines) != 11 || !strings.Contains(lines[0], `"reason"="no diagnostics resource`) {
		t.Errorf("want one audit line with its reason per refusal; got %d:\n%s", len(lines), strings.Join(lines, "\n"))
	}
}

func TestOneCPUProfileOrTraceAtATime(t *testing.T) {
	a := newApp(t)
	p := newPort(t, Options{}, func() (string, error) { return a.url, nil })
	c := p.diagnosticsClient(t)
	first := make(chan answer, 1)
	go func() { first <- get(t, c, p.url+"profile?seconds=2") }()
	select {
	case <-a.profileStarted:
	case <-time.After(30 * time.Second):
		t.Fatal("the first CPU profile never reached the app")
	}
	for _, path := range []string{"profile?seconds=1", "trace?seconds=1"} {
		got := get(t, c, p.url+path)
		if got.status != http.StatusConflict || !strings.Contains(string(got.body), "a profile is already running on this pod") || got.header.Get("Retry-After") == "" {
			t.Errorf("%s during a CPU profile: %d %q (Retry-After %q); want 409 with a reason and Retry-After", path, got.status, got.body, got.header.Get("Retry-After"))
		}
	}
	if got := <-first; got.status != http.StatusOK {
		t.Fatalf("the first profile: %d %v %s", got.status, got.err, got.body)
	}
	if got := get(t, c, p.url+"trace?seconds=1"); got.status != http.StatusOK {
		t.Errorf("a trace after the profile ended: %d %s", got.status, got.body)
	}
}

func TestDumpsAreRateLimited(t *testing.T) {
	a := newApp(t)
	p := newPort(t, Options{DumpsPerMinute: 1, DumpBurst: 2}, func() (string, error) { return a.url, nil })
	c := p.diagnosticsClient(t)
	for i, want := range []int{200, 200, 429} {
		got := get(t, c, p.url+"heap")
		if got.status != want {
			t.Fatalf("dump %d: %d %s; want %d", i+1, got.status, got.body, want)
		}
		if want == 429 && (got.header.Get("Retry-After") == "" || !strings.Contains(string(got.body), "too many dumps from this pod: at most 1 per minute, 2 at once")) {
			t.Errorf("refusal %q with Retry-After %q", got.body, got.header.Get("Retry-After"))
		}
	}
}

func TestTheAppsFailuresAreClearStatuses(t *testing.T) {
	noPprof := serveHTTP(t, http.NotFoundHandler())
	broken := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Could not enable CPU profiling: cpu profiling already in use", http.StatusInternalServerError)
	}))
	release := make(chan struct{})
	hung := serveHTTP(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) })
	a := newApp(t)
	for _, tc := range []struct {
		name   string
		target Target
		opts   Options
		path   string
		status int
		reason string
	}{
		{"an app without pprof", func() (string, error) { return noPprof + "/debug/pprof", nil }, Options{}, "heap", 404,
			"the app serves no heap at 127.0.0.1:"},
		{"a sidecar that does not read pprof", func() (string, error) { return "", fmt.Errorf("pod: %w", ErrPprofDisabled) }, Options{}, "heap", 404,
			"gopherscope.io/pprof-path is empty"},
		{"an app whose pprof has not answered yet", func() (string, error) { return "", errors.New("the app's pprof has not answered yet") }, Options{}, "heap", 503,
			"has not answered yet"},
		{"an app that fails", func() (string, error) { return broken + "/debug/pprof", nil }, Options{}, "profile?seconds=1", 502,
			"the app answered 500 Internal Server Error for its profile: Could not enable CPU profiling"},
		{"an app that hangs", func() (string, error) { return hung + "/debug/pprof", nil }, Options{Timeout: 300 * time.Millisecond}, "goroutine", 504,
			"the app did not answer its goroutine within 300ms"},
		{"a profile over the byte cap", func() (string, error) { return a.url, nil }, Options{MaxBytes: 100}, "heap?debug=1", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPort(t, tc.opts, tc.target)
			got := get(t, p.diagnosticsClient(t), p.url+tc.path)
			if tc.status == 0 {
				// Cut off: the client must not take a truncated profile for a whole one.
				if got.err == nil && got.status == http.StatusOK {
					t.Fatalf("served a whole %d-byte answer over a 100-byte cap", len(got.body))
				}
				lines := p.log.Matching(`"msg"="diagnostics request"`)
				if len(lines) != 1 || !(strings.Contains(lines[0], "over the cap of 100 bytes")) {
					t.Errorf("audit lines %q; want one naming the cap", lines)
				}
				return
			}
			if got.status != tc.status || !strings.Contains(string(got.body), tc.reason) {
				t.Errorf("%d %q; want %d with %q", got.status, got.body, tc.status, tc.reason)
			}
		})
	}
}
