package ui

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // for the page
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

var (
	//go:embed index.html
	indexHTML []byte
	//go:embed findings.js
	findingsJS []byte
)

// page is the document served: index.html with findings.js inlined where
// its marker stands, so that the page stays one self-contained document.
var page = inline(indexHTML, "<!-- findings.js -->", findingsJS)

// inline replaces the one marker in html with script as an inline <script>.
// It panics when the marker is not there exactly once: the page would lack
// the script.
func inline(html []byte, marker string, script []byte) []byte {
	if n := bytes.Count(html, []byte(marker)); n != 1 {
		panic("ui: the page has " + strconv.Itoa(n) + " markers " + marker + ", want 1")
	}
	block := append(append([]byte("<script>\n"), script...), "</script>"...)
	return bytes.Replace(html, []byte(marker), block, 1)
}

// inlineBlocks finds the page's inline <script> and <style> elements, whose
// hashes the Content-Security-Policy allows.
var inlineBlocks = regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)

// Handler serves the page at exactly "/" (GET and HEAD) with a strict
// Content-Security-Policy: nothing remote, only the page's own inline script
// and style (by hash), and connections only to the page's own origin.
// Every other path is 404.
func Handler() http.Handler {
	csp := contentSecurityPolicy(page)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(page) // The client went away; nothing to do.
	})
}

// contentSecurityPolicy allows html's inline scripts and styles by their
// SHA-256 and nothing else that is not the page's own origin.
func contentSecurityPolicy(html []byte) string {
	hashes := map[string][]string{}
	for _, m := range inlineBlocks.FindAllSubmatch(html, -1) {
		sum := sha256.Sum256(m[2])
		hashes[string(m[1])] = append(hashes[string(m[1])], "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return strings.Join([]string{
		"default-src 'none'",
		"script-src " + strings.Join(hashes["script"], " "),
		"style-src " + strings.Join(hashes["style"], " "),
		"connect-src 'self'",
		"img-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}
