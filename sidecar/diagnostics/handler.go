package diagnostics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/internal/httpaudit"
)

// PathPrefix is where the resources are served: PathPrefix + "heap".
const PathPrefix = "/diagnostics/v1alpha1/"

// UserHeader carries the user the diagnostics server acts for, for the
// audit line; only the certified client reaches the handler to set it.
const UserHeader = "Gopherscope-User"

// ErrPprofDisabled is wrapped by a Target when the pod's sidecar does not
// read the app's pprof at all.
var ErrPprofDisabled = errors.New("this pod's sidecar does not read the app's pprof (gopherscope.io/pprof-path is empty)")

// Target returns the URL prefix of the app's net/http/pprof handlers, such
// as "http://127.0.0.1:6060/debug/pprof", or why there is none.
type Target func() (string, error)

// Local serves the resources the sidecar answers from its own samples. A
// nil handler's resource is answered 404.
type Local struct {
	// Stats serves api.StatsResponse; History serves api.HistoryResponse.
	Stats, History http.Handler
}

// handler returns the handler of the local resource name, or nil.
func (l Local) handler(name string) http.Handler {
	switch name {
	case api.Stats:
		return l.Stats
	case api.History:
		return l.History
	}
	return nil
}

// maxLogged bounds what a client-chosen value adds to an audit line.
const maxLogged = 256

// Handler serves the diagnostics resources: the sidecar's own (Local), and
// the app's pprof, forwarded.
type Handler struct {
	local    Local
	target   Target
	client   *http.Client
	guard    *guard
	maxBytes int64
	timeout  time.Duration
	log      logr.Logger
}

// NewHandler returns the handler for opts (its zero limits mean the
// defaults), answering local's resources itself, forwarding the others to
// target, and writing audit lines to log.
func NewHandler(opts Options, target Target, local Local, log logr.Logger) *Handler {
	opts = opts.WithDefaults()
	return &Handler{
		local:  local,
		target: target,
		client: &http.Client{
			// Only the app on localhost, never through a proxy; the
			// app's redirects are not followed.
			Transport:     &http.Transport{Proxy: nil, DisableCompression: true, MaxIdleConns: 2, IdleConnTimeout: time.Minute},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		guard:    newGuard(opts.DumpsPerMinute, opts.DumpBurst),
		maxBytes: opts.MaxBytes,
		timeout:  opts.Timeout,
		log:      log,
	}
}

// ServeHTTP serves one resource and writes its audit line, also when the
// response is aborted part way.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ex := &httpaudit.Response{ResponseWriter: w}
	name := strings.TrimPrefix(r.URL.Path, PathPrefix)
	defer func() {
		h.log.Info("diagnostics request", "client", clientName(r), "user", bounded(r.Header.Get(UserHeader)),
			"resource", bounded(name), "query", bounded(r.URL.RawQuery), "status", ex.Status,
			"bytes", ex.Bytes, "duration", time.Since(start).Round(time.Millisecond).String(), "reason", ex.Reason)
	}()
	if ref := h.serve(ex, r, name); ref != nil {
		ex.Reason = ref.reason
		if ref.retryAfter > 0 {
			ex.Header().Set("Retry-After", strconv.Itoa(int((ref.retryAfter+time.Second-1)/time.Second)))
		}
		http.Error(ex, ref.reason, ref.status)
	}
}

// serve forwards the request, or returns why it is refused. Once the
// app's answer is streaming it can no longer be refused: a response over
// the cap or cut short is aborted, so the client never takes a truncated
// profile for a whole one.
func (h *Handler) serve(ex *httpaudit.Response, r *http.Request, name string) *refusal {
	res, ok := resources[name]
	if r.Method != http.MethodGet && (r.Method != http.MethodHead || !res.local) {
		allow := http.MethodGet
		if res.local {
			allow = "GET, HEAD"
		}
		ex.Header().Set("Allow", allow)
		return refuse(http.StatusMethodNotAllowed, "%s is not allowed: the diagnostics resources are read-only (%s)", bounded(r.Method), allow)
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		return refuse(http.StatusRequestEntityTooLarge, "a diagnostics request carries no body")
	}
	if !ok {
		return refuse(http.StatusNotFound, "no diagnostics resource %q: one of %s", bounded(name), strings.Join(ResourceNames(), ", "))
	}
	query, length, err := res.query(r.URL.RawQuery)
	if err != nil {
		return refuse(http.StatusBadRequest, "%s", err)
	}
	if res.local {
		local := h.local.handler(res.name)
		if local == nil {
			return refuse(http.StatusNotFound, "this sidecar does not serve %s", res.name)
		}
		local.ServeHTTP(ex, r)
		return nil
	}
	base, err := h.target()
	switch {
	case errors.Is(err, ErrPprofDisabled):
		return refuse(http.StatusNotFound, "%s", err)
	case err != nil:
		// No Retry-After: an app that serves no pprof never will, and
		// client-go would retry a 503 with one ten times before saying so.
		return refuse(http.StatusServiceUnavailable, "%s", err)
	}
	release, ref := h.guard.admit(res, length)
	if ref != nil {
		return ref
	}
	defer release()

	ctx, cancel := context.WithTimeout(r.Context(), length+h.timeout)
	defer cancel()
	url := base + "/" + res.name + "?" + query
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return refuse(http.StatusInternalServerError, "request to the app: %s", err)
	}
	req.Header.Set("User-Agent", "gopherscope-sidecar-diagnostics")
	resp, err := h.client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
			return refuse(http.StatusGatewayTimeout, "the app did not answer its %s within %s", res.name, length+h.timeout)
		}
		return refuse(http.StatusBadGateway, "the app's %s: %s", res.name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if ref := h.checkAnswer(resp, res, base); ref != nil {
		return ref
	}
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Length"} {
		if v := resp.Header.Get(k); v != "" {
			ex.Header().Set(k, v)
		}
	}
	ex.Header().Set("X-Content-Type-Options", "nosniff")
	ex.WriteHeader(http.StatusOK)
	_, err = io.Copy(ex, io.LimitReader(resp.Body, h.maxBytes))
	if err == nil {
		var one [1]byte
		if n, _ := io.ReadFull(resp.Body, one[:]); n > 0 {
			err = errors.New("over the cap of " + strconv.FormatInt(h.maxBytes, 10) + " bytes")
		}
	}
	if err != nil {
		ex.Reason = "aborted after " + strconv.FormatInt(ex.Bytes, 10) + " bytes: " + err.Error()
		panic(http.ErrAbortHandler)
	}
	return nil
}

// checkAnswer refuses an app's answer that is not a profile to forward.
func (h *Handler) checkAnswer(resp *http.Response, res resource, base string) *refusal {
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return refuse(http.StatusNotFound, "the app serves no %s at %s/%s: it needs net/http/pprof's handlers there (or gopherscope.io/pprof-path set to where they are)",
			res.name, strings.TrimPrefix(base, "http://"), res.name)
	case resp.StatusCode != http.StatusOK:
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return refuse(http.StatusBadGateway, "the app answered %s for its %s: %s", resp.Status, res.name, strings.TrimSpace(string(snippet)))
	case resp.ContentLength > h.maxBytes:
		return refuse(http.StatusBadGateway, "the app's %s is %d bytes, over the cap of %d bytes", res.name, resp.ContentLength, h.maxBytes)
	}
	return nil
}

// clientName is the common name of the client's certificate, "" without TLS.
func clientName(r *http.Request) string {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return ""
	}
	return r.TLS.PeerCertificates[0].Subject.CommonName
}

// bounded cuts a client-chosen string for a log line or a reason.
func bounded(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	return s[:maxLogged] + "…"
}
