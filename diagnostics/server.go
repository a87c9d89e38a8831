package diagnostics

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/gopherscope/gopherscope/internal/httpaudit"
	sidecardiag "github.com/gopherscope/gopherscope/sidecar/diagnostics"
)

// Options configure a Server.
type Options struct {
	// Authenticator and Authorizer decide who may do what (DelegatedAuth).
	Authenticator authenticator.Request
	Authorizer    authorizer.Authorizer
	// Pods reads the pods whose sidecars the server reaches.
	Pods corev1client.PodsGetter
	// ClientCertificate returns the certificate shown to sidecars; it is
	// asked on each new connection, so a renewed certificate is used
	// without a restart.
	ClientCertificate func() (*tls.Certificate, error)
	// Log receives one audit line per request.
	Log logr.Logger
}

// Server serves the API: discovery, and the pods' diagnostics resources.
type Server struct {
	opts    Options
	sidecar *http.Client
}

// sidecarTimeout bounds any request to a sidecar: the longest profile,
// the time the sidecar allows the app beyond it, and a margin.
const sidecarTimeout = time.Duration(sidecardiag.MaxSeconds)*time.Second + sidecardiag.DefaultTimeout + 5*time.Second

// sidecarDeadline is how long one request may wait for the sidecar's
// answer to begin: what the app takes by design (a profile's seconds; 0
// for a dump), the sidecar's allowance for the app, and a margin. A
// sidecar that hangs is reported after that, not at the API server's
// 60 s.
func sidecarDeadline(resource, rawQuery string) time.Duration {
	return sidecardiag.Duration(resource, rawQuery) + sidecardiag.DefaultTimeout + 5*time.Second
}

// sidecarQuery is the query passed to the sidecar: the request's, without
// the API server's own timeout parameter, which client-go adds to every
// request made with a timeout and the API server has already applied.
func sidecarQuery(raw string) string {
	if !strings.Contains(raw, "timeout=") {
		return raw
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return raw // the sidecar says what is wrong with it
	}
	values.Del("timeout")
	return values.Encode()
}

// errSidecarSlow ends a request whose sidecar did not answer in time.
var errSidecarSlow = errors.New("the sidecar did not answer in time")

// New returns a Server.
func New(opts Options) *Server {
	return &Server{opts: opts, sidecar: &http.Client{
		Timeout: sidecarTimeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DisableCompression:  true,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     time.Minute,
			TLSClientConfig: &tls.Config{
				MinVersion: tls.VersionTLS13,
				GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
					return opts.ClientCertificate()
				},
				// The sidecar's serving certificate is self-signed, made
				// at its start: the server finds it at the pod's address
				// read from the API server, as kube-apiserver's own pod
				// proxy does, and the client certificate is what
				// authenticates this connection.
				InsecureSkipVerify: true, //nolint:gosec // see above
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// ServeHTTP authenticates, authorizes and serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &httpaudit.Response{ResponseWriter: w}
	var who user.Info
	target := r.URL.Path
	defer func() {
		name := ""
		if who != nil {
			name = who.GetName()
		}
		s.opts.Log.Info("diagnostics request", "user", name, "path", target, "query", r.URL.RawQuery,
			"status", rec.Status, "bytes", rec.Bytes, "duration", time.Since(start).Round(time.Millisecond).String(), "reason", rec.Reason)
	}()
	resp, ok, err := s.opts.Authenticator.AuthenticateRequest(r)
	if err != nil || !ok {
		writeStatus(rec, apierrors.NewUnauthorized("the request names no user the API server vouches for"))
		return
	}
	who = resp.User
	if r.Method != http.MethodGet {
		writeStatus(rec, apierrors.NewMethodNotSupported(schema.GroupResource{Group: Group, Resource: "pods"}, r.Method))
		return
	}
	switch r.URL.Path {
	case groupPath, versionPath:
		s.serveDiscovery(rec, r, who)
		return
	}
	pr, ok := parsePodResource(r.URL.Path)
	if !ok || !slices.Contains(sidecardiag.ResourceNames(), pr.resource) {
		writeStatus(rec, apierrors.NewNotFound(schema.GroupResource{Group: Group, Resource: "pods"}, strings.TrimPrefix(r.URL.Path, versionPath)))
		return
	}
	s.servePod(r.Context(), rec, r, who, pr)
}

func (s *Server) serveDiscovery(w *httpaudit.Response, r *http.Request, who user.Info) {
	attrs := authorizer.AttributesRecord{User: who, Verb: "get", Path: r.URL.Path}
	if decision, reason, err := s.opts.Authorizer.Authorize(r.Context(), attrs); decision != authorizer.DecisionAllow {
		writeStatus(w, apierrors.NewForbidden(schema.GroupResource{}, "", denial(reason, err)))
		return
	}
	var body any = apiResources()
	if r.URL.Path == groupPath {
		body = apiGroup()
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Server) servePod(ctx context.Context, w *httpaudit.Response, r *http.Request, who user.Info, pr podResource) {
	gr := schema.GroupResource{Group: Group, Resource: "pods/" + pr.resource}
	attrs := authorizer.AttributesRecord{
		User: who, Verb: "get", Namespace: pr.namespace, APIGroup: Group, APIVersion: Version,
		Resource: "pods", Subresource: pr.resource, Name: pr.pod, ResourceRequest: true, Path: r.URL.Path,
	}
	if decision, reason, err := s.opts.Authorizer.Authorize(ctx, attrs); decision != authorizer.DecisionAllow {
		writeStatus(w, apierrors.NewForbidden(gr, pr.pod, denial(reason, err)))
		return
	}
	pod, err := s.opts.Pods.Pods(pr.namespace).Get(ctx, pr.pod, metav1.GetOptions{})
	if err != nil {
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			writeStatus(w, status)
			return
		}
		writeStatus(w, apierrors.NewInternalError(fmt.Errorf("read pod %s/%s: %w", pr.namespace, pr.pod, err)))
		return
	}
	addr, err := sidecarAddress(pod)
	if err != nil {
		var status apierrors.APIStatus
		if errors.As(err, &status) {
			writeStatus(w, status)
			return
		}
		writeStatus(w, apierrors.NewInternalError(err))
		return
	}
	s.forward(ctx, w, r, who, pr, addr)
}

// forward asks the pod's sidecar and streams its answer back; a refusal
// becomes a Status that names the pod and keeps the sidecar's reason.
func (s *Server) forward(ctx context.Context, w *httpaudit.Response, r *http.Request, who user.Info, pr podResource, addr string) {
	query := sidecarQuery(r.URL.RawQuery)
	url := "https://" + addr + sidecardiag.PathPrefix + pr.resource
	if query != "" {
		url += "?" + query
	}
	// The host is the pod's IP from the API server and the path is fixed;
	// the sidecar checks the query against what each resource takes.
	// Only the wait for the answer's start is bounded here; its body is
	// bounded by the client's overall timeout.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	slow := time.AfterFunc(sidecarDeadline(pr.resource, query), func() { cancel(errSidecarSlow) })
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil) //nolint:gosec // see above
	if err != nil {
		writeStatus(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	req.Header.Set(sidecardiag.UserHeader, who.GetName())
	resp, err := s.sidecar.Do(req) //nolint:gosec // see above
	slow.Stop()
	if err != nil {
		status := apierrors.NewServiceUnavailable(fmt.Sprintf("pod %s/%s: the sidecar at %s did not answer: %v", pr.namespace, pr.pod, addr, err))
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(context.Cause(ctx), errSidecarSlow) {
			status = apierrors.NewTimeoutError(fmt.Sprintf("pod %s/%s: the sidecar at %s did not answer in time", pr.namespace, pr.pod, addr), 0)
		}
		writeStatus(w, status)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		status := &apierrors.StatusError{ErrStatus: metav1.Status{
			Status: metav1.StatusFailure, Code: int32(resp.StatusCode), Reason: reasonFor(resp.StatusCode), //nolint:gosec // an HTTP status fits
			Message: fmt.Sprintf("pod %s/%s: %s", pr.namespace, pr.pod, strings.TrimSpace(string(msg))),
			Details: &metav1.StatusDetails{Name: pr.pod, Group: Group, Kind: "pods/" + pr.resource},
		}}
		if v := resp.Header.Get("Retry-After"); v != "" {
			w.Header().Set("Retry-After", v)
		}
		writeStatus(w, status)
		return
	}
	for _, k := range []string{"Content-Type", "Content-Disposition", "Content-Length"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, resp.Body); err != nil {
		// Cut short (the sidecar aborted over its cap, or the
		// connection broke): abort too, so the client never takes a
		// truncated profile for a whole one.
		w.Reason = "aborted after " + strconv.FormatInt(w.Bytes, 10) + " bytes: " + err.Error()
		panic(http.ErrAbortHandler)
	}
}
