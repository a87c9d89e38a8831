package ui

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func serve(t *testing.T, method, path string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), method, path, nil))
	return rec, rec.Body.String()
}

func TestHandlerServesThePageWithAStrictPolicy(t *testing.T) {
	resp, body := serve(t, http.MethodGet, "/")
	if resp.Code != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", resp.Code)
	}
	if got := resp.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if !strings.HasPrefix(body, "<!doctype html>") || !strings.Contains(body, `fetch("api/v1/history"`) {
		t.Errorf("body is not the page fetching the relative history URL; it starts %.80q", body)
	}
	csp := resp.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "connect-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	for _, banned := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(csp, banned) {
			t.Errorf("CSP %q allows %q", csp, banned)
		}
	}
	// Each inline block's hash, computed here independently, is allowed:
	// one style, and the findings' script before the page's.
	for tag, n := range map[string]int{"script": 2, "style": 1} {
		blocks := regexp.MustCompile(`(?s)<`+tag+`>(.*?)</`+tag+`>`).FindAllStringSubmatch(body, -1)
		if len(blocks) != n {
			t.Fatalf("the page has %d inline <%s>, want %d", len(blocks), tag, n)
		}
		var sources []string
		for d := range strings.SplitSeq(csp, "; ") {
			if name, list, _ := strings.Cut(d, " "); name == tag+"-src" {
				sources = strings.Fields(list)
			}
		}
		for _, m := range blocks {
			sum := sha256.Sum256([]byte(m[1]))
			if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !slices.Contains(sources, want) {
				t.Errorf("CSP %q lacks %s in %s-src", csp, want, tag)
			}
		}
	}
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := resp.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestThePageIsSmallAndSelfContained(t *testing.T) {
	_, body := serve(t, http.MethodGet, "/")
	if len(body) > 40<<10 {
		t.Errorf("the page is %d bytes, want at most 40 KiB", len(body))
	}
	// The only absolute URL is the SVG namespace name, which is never fetched.
	urls := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^"' )]*`).FindAllString(body, -1)
	for _, u := range urls {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("the page refers to %q; it must load nothing remote", u)
		}
	}
	for _, banned := range []string{"<link", "@import", "<iframe", "src=", "url("} {
		if strings.Contains(body, banned) {
			t.Errorf("the page contains %q", banned)
		}
	}
}

func TestHandlerAnswersOnlyTheRoot(t *testing.T) {
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodGet, "/index.html", http.StatusNotFound},
		{http.MethodGet, "/api/v1/history", http.StatusNotFound},
		{http.MethodGet, "/favicon.ico", http.StatusNotFound},
		{http.MethodGet, "/static/app.js", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/", http.StatusMethodNotAllowed},
		{http.MethodPost, "/elsewhere", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" answers "+http.StatusText(tt.want), func(t *testing.T) {
			resp, body := serve(t, tt.method, tt.path)
			if resp.Code != tt.want {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.Code, tt.want)
			}
			if tt.want != http.StatusOK && strings.Contains(body, "<script>") {
				t.Errorf("%s %s served the page", tt.method, tt.path)
			}
			if tt.want == http.StatusMethodNotAllowed && resp.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q, want %q", resp.Header().Get("Allow"), "GET, HEAD")
			}
		})
	}
}

func TestThePageInlinesTheFindingsScriptBeforeItsOwn(t *testing.T) {
	_, body := serve(t, http.MethodGet, "/")
	defined, called := strings.Index(body, "async function pollFindings()"), strings.Index(body, "await pollFindings();")
	if defined < 0 || called < 0 || defined > called {
		t.Errorf("pollFindings is defined at %d and called at %d: want findings.js inlined before the page's script", defined, called)
	}
	if strings.Contains(body, "<!-- findings.js -->") {
		t.Error("the page still has the findings.js marker")
	}
}

func TestInlineWantsExactlyOneMarker(t *testing.T) {
	got := string(inline([]byte("<p><!-- m --></p>"), "<!-- m -->", []byte("f();\n")))
	if want := "<p><script>\nf();\n</script></p>"; got != want {
		t.Errorf("inline = %q, want %q", got, want)
	}
	for _, html := range []string{"<p></p>", "<!-- m --><!-- m -->"} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "<!-- m -->") {
					t.Errorf("inline(%q) recovered %v, want a panic naming the marker", html, r)
				}
			}()
			inline([]byte(html), "<!-- m -->", nil)
		}()
	}
}
