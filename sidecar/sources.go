package sidecar

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/gopherscope/gopherscope/sidecar/source"
)

// SourcesPath serves the health of the app's endpoints as JSON, for the page.
const SourcesPath = "/api/v1/sources"

// The pod annotations that point the sidecar at the app's endpoints. The
// sidecar links no k8s.io code, so it does not import the config package
// that defines them; a test checks that they are the same.
const (
	annotationPort        = "gopherscope.io/port"
	annotationExpvarPath  = "gopherscope.io/expvar-path"
	annotationPprofPath   = "gopherscope.io/pprof-path"
	annotationMetricsPath = "gopherscope.io/metrics-path"
)

// SourceStatus is what the page says about one of the app's endpoints.
type SourceStatus struct {
	// Source is the source's name: expvar, pprof or prometheus.
	Source string `json:"source"`
	// Up says whether the last attempt to read it succeeded.
	Up bool `json:"up"`
	// Endpoint is where it is read, as ":PORT/path" (each candidate port
	// while none has answered).
	Endpoint string `json:"endpoint"`
	// Reason says briefly why the last attempt failed, with where
	// (`connection refused on :6060/debug/vars`); empty when up.
	Reason string `json:"reason,omitempty"`
	// Fix names what to change, and the pod annotation that changes it.
	Fix string `json:"fix,omitempty"`
	// Error is the last error in full.
	Error string `json:"error,omitempty"`
}

// SourcesResponse is the body of GET /api/v1/sources.
type SourcesResponse struct {
	// TargetUp says whether any of the app's endpoints answered last time.
	TargetUp bool `json:"targetUp"`
	// Sources are the enabled endpoints, in the order they are read.
	Sources []SourceStatus `json:"sources"`
}

// sourceSetup is what the status of a source needs beyond its health: the
// path it reads, the ports it tries, and how the app serves that path.
type sourceSetup struct {
	path, pathAnnotation, serveHint string
	ports                           []int
}

func (o *observedSource) status() SourceStatus {
	st := SourceStatus{Source: o.Name(), Up: o.up, Endpoint: o.endpoint()}
	if o.up || o.lastErr == "" {
		return st
	}
	st.Error = o.lastErr
	st.Reason, st.Fix = o.explain(o.lastCause)
	return st
}

// endpoint is ":PORT/path" for the port in use, else every candidate.
func (o *observedSource) endpoint() string {
	ports := o.setup.ports
	if p := o.Port(); p != 0 {
		ports = []int{p}
	}
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = ":" + strconv.Itoa(p) + o.setup.path
	}
	return strings.Join(parts, " and ")
}

// explain turns a failed attempt into a short reason and the fix.
func (o *observedSource) explain(err error) (reason, fix string) {
	s, where := o.setup, " on "+o.endpoint()
	portList := joinPorts(s.ports)
	var status *source.StatusError
	var netErr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused" + where, "nothing listens on port " + portList + " in the pod: set the pod annotation " +
			annotationPort + " to the app's debug port, and have the app serve it (" + s.serveHint + ")"
	case errors.As(err, &status) && status.Code == http.StatusNotFound:
		return "HTTP 404" + where, "the app answers on port " + portList + " but not at " + s.path + ": set the pod annotation " +
			s.pathAnnotation + " to its path, or have the app serve it (" + s.serveHint + ")"
	case errors.As(err, &status):
		return "HTTP " + strconv.Itoa(status.Code) + where, "the app refuses " + s.path + ": check its debug server, or set the pod annotation " +
			s.pathAnnotation + " to the right path"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return "no answer in time" + where, "the app's debug server is slow or blocked; if port " + portList +
			" is not it, set the pod annotation " + annotationPort
	case errors.Is(err, source.ErrBodyTooLarge):
		return "answer too large" + where, "the answer at " + s.path + " is over the sidecar's size cap: check that " +
			s.pathAnnotation + " names the right endpoint"
	default:
		return "unreadable answer" + where, "what answers at " + s.path + " is not what the " + o.Name() +
			" source reads: set the pod annotation " + s.pathAnnotation + " to the app's endpoint (" + s.serveHint + ")"
	}
}

func joinPorts(ports []int) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = strconv.Itoa(p)
	}
	return strings.Join(parts, ", ")
}

// setupFor describes source name reading path on ports.
func setupFor(name, path string, ports []int) sourceSetup {
	s := sourceSetup{path: path, ports: ports}
	switch name {
	case "expvar":
		s.pathAnnotation, s.serveHint = annotationExpvarPath, `import _ "expvar" and http.ListenAndServe("localhost:6060", nil)`
	case "pprof":
		s.pathAnnotation, s.serveHint = annotationPprofPath, `import _ "net/http/pprof" and http.ListenAndServe("localhost:6060", nil)`
	default:
		s.pathAnnotation, s.serveHint = annotationMetricsPath, "client_golang's promhttp.Handler()"
	}
	return s
}

// sourcesHandler serves the latest sample's SourceStatus list.
func sourcesHandler(s *Sampler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !getOrHead(w, r) {
			return
		}
		resp := SourcesResponse{Sources: []SourceStatus{}}
		if snap := s.Latest(); snap != nil {
			resp.TargetUp, resp.Sources = snap.TargetUp, snap.Sources
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(resp) // The client went away; nothing to do.
	}
}
