package sidecar

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/common/expfmt"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar/history"
	"github.com/gopherscope/gopherscope/sidecar/ui"
)

// shutdownTimeout bounds how long in-flight requests may finish on shutdown.
const shutdownTimeout = 5 * time.Second

// MetricsHandler serves the latest snapshot in the Prometheus exposition
// format negotiated with the scraper (gzipped when it accepts gzip). Before
// the first sample the exposition is empty.
func MetricsHandler(s *Sampler, log logr.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		format := expfmt.NegotiateAccept(r.Header, expfmt.DefaultAcceptedFormats()...)
		h := w.Header()
		h.Add("Vary", "Accept")
		h.Add("Vary", "Accept-Encoding")
		h.Set("Content-Type", string(format))
		snap := s.Latest()
		if snap == nil {
			return
		}
		gzipped := acceptsGzip(r.Header.Get("Accept-Encoding"))
		body := snap.exposition(format, gzipped, log)
		if gzipped {
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	for coding := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(coding, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, isQ := strings.CutPrefix(strings.TrimSpace(params), "q=")
		weight, err := strconv.ParseFloat(q, 64)
		return !isQ || err != nil || weight > 0
	}
	return false
}

// NewMux returns the sidecar's routes: the exposition, health and
// readiness, the history, sources and findings APIs and the page. Nothing else is served (no
// DefaultServeMux, no pprof of the sidecar itself).
func NewMux(s *Sampler, ring *history.Ring, opts Options, log logr.Logger) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(sidecarconf.SidecarMetricsPath, MetricsHandler(s, log))
	mux.HandleFunc(sidecarconf.SidecarHealthzPath, func(w http.ResponseWriter, r *http.Request) {
		if !getOrHead(w, r) {
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc(sidecarconf.SidecarReadyzPath, func(w http.ResponseWriter, r *http.Request) {
		if !getOrHead(w, r) {
			return
		}
		if ok, reason := s.Ready(); !ok {
			http.Error(w, "not ready: "+reason, http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.Handle(sidecarconf.SidecarHistoryPath, historyHandler(ring, opts))
	mux.Handle(SourcesPath, sourcesHandler(s))
	mux.Handle(FindingsPath, findingsHandler(s))
	mux.Handle("/", ui.Handler())
	return mux
}

func getOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// newServer returns an http.Server with timeouts, so slow clients cannot
// hold the sidecar's resources.
func newServer(handler http.Handler) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
}

// serve runs srv on ln until ctx ends, then shuts it down gracefully.
func serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down %s: %w", ln.Addr(), err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}
