package loadgen

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// DefaultTimeout bounds one request: the chart's timeoutSeconds, after which
// the API server gives up on the webhook.
const DefaultTimeout = 5 * time.Second

// maxResponseBytes caps the body read from the webhook.
const maxResponseBytes = 64 << 20

// Target is the webhook under load.
type Target struct {
	// URL is the webhook's endpoint, e.g. https://127.0.0.1:9443/inject.
	URL string
	// RootCAs verify the webhook's serving certificate (the caBundle).
	RootCAs *x509.CertPool
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Request is one AdmissionReview and what a correct answer to it is.
type Request struct {
	// Name says what the request is, for reports ("typical pod").
	Name string
	// UID is the request's uid, which the answer must echo.
	UID string
	// Body is the encoded AdmissionReview.
	Body []byte
	// WantPatch says whether a correct answer carries a JSON patch (an
	// injection) or none (a pod left unchanged).
	WantPatch bool
}

// Kinds of SendError, the causes results count errors by.
const (
	ErrTransport       = "transport"        // no HTTP answer: connection, TLS, timeout
	ErrStatus          = "http-status"      // an HTTP status other than 200
	ErrDecode          = "decode"           // the body is not an AdmissionReview answer
	ErrUID             = "uid-mismatch"     // the answer is about another request
	ErrDenied          = "denied"           // the pod was refused
	ErrMissingPatch    = "missing-patch"    // an injection was expected, no patch came
	ErrUnexpectedPatch = "unexpected-patch" // the pod was to be left alone, a patch came
)

// SendError is a request that did not get a correct answer.
type SendError struct {
	// Kind is one of the Err* constants.
	Kind string
	// Err says what happened.
	Err error
}

func (e *SendError) Error() string { return e.Kind + ": " + e.Err.Error() }

func (e *SendError) Unwrap() error { return e.Err }

// Client sends requests over one keep-alive HTTP/1.1 connection, dialled
// again when the previous one was closed.
type Client struct {
	target Target
	http   *http.Client
	certs  *CertificateLog
}

// NewClient returns a client for target that records every serving
// certificate it verifies in certs (nil records nothing).
func NewClient(target Target, certs *CertificateLog) *Client {
	if target.Timeout <= 0 {
		target.Timeout = DefaultTimeout
	}
	tlsConfig := &tls.Config{RootCAs: target.RootCAs, MinVersion: tls.VersionTLS12}
	if certs != nil {
		tlsConfig.VerifyConnection = certs.record
	}
	transport := &http.Transport{
		TLSClientConfig:     tlsConfig,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		// A non-nil empty map turns HTTP/2 off: the API server speaks
		// HTTP/1.1 to webhooks unless both sides enable HTTP/2.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &Client{target: target, http: &http.Client{Transport: transport, Timeout: target.Timeout}, certs: certs}
}

// Close closes the client's idle connection.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Send posts r and checks the answer; with closeAfter the connection is
// closed after the answer, so the next request dials (and shakes hands)
// again. A wrong answer is a *SendError.
func (c *Client) Send(ctx context.Context, r Request, closeAfter bool) (*Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.target.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, &SendError{Kind: ErrTransport, Err: fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Close = closeAfter
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &SendError{Kind: ErrTransport, Err: err}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	_ = resp.Body.Close() // fully read
	if err != nil {
		return nil, &SendError{Kind: ErrTransport, Err: fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &SendError{Kind: ErrStatus, Err: fmt.Errorf("%s: %.200s", resp.Status, body)}
	}
	return CheckAnswer(r, body)
}

// Answer is what the load generator reads of an AdmissionReview answer.
type Answer struct {
	// UID is the uid the answer is about.
	UID string
	// Allowed says whether the pod is admitted.
	Allowed bool
	// Message is the status message, if any.
	Message string
	// patch is the JSON patch as sent: a base64 JSON string, or absent.
	patch json.RawMessage
}

// HasPatch reports whether the answer carries a patch.
func (a *Answer) HasPatch() bool {
	p := string(a.patch)
	return p != "" && p != "null" && p != `""`
}

// Patch decodes the answer's JSON patch (nil without one).
func (a *Answer) Patch() ([]byte, error) {
	if !a.HasPatch() {
		return nil, nil
	}
	var patch []byte
	if err := json.Unmarshal(a.patch, &patch); err != nil {
		return nil, fmt.Errorf("decode the patch: %w", err)
	}
	return patch, nil
}

// wireAnswer is the part of an AdmissionReview that Answer holds: decoding
// only this keeps the load generator's own cost (it shares the machine with
// the webhook) low and the same whatever the patch.
type wireAnswer struct {
	Response *struct {
		UID     string `json:"uid"`
		Allowed bool   `json:"allowed"`
		Status  *struct {
			Message string `json:"message"`
		} `json:"status"`
		Patch json.RawMessage `json:"patch"`
	} `json:"response"`
}

// CheckAnswer decodes an AdmissionReview answer and checks it against r;
// a wrong answer is a *SendError.
func CheckAnswer(r Request, body []byte) (*Answer, error) {
	var wire wireAnswer
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, &SendError{Kind: ErrDecode, Err: fmt.Errorf("decode AdmissionReview: %w", err)}
	}
	if wire.Response == nil {
		return nil, &SendError{Kind: ErrDecode, Err: errors.New("the AdmissionReview has no response")}
	}
	ans := &Answer{UID: wire.Response.UID, Allowed: wire.Response.Allowed, patch: wire.Response.Patch}
	if wire.Response.Status != nil {
		ans.Message = wire.Response.Status.Message
	}
	switch {
	case ans.UID != r.UID:
		return ans, &SendError{Kind: ErrUID, Err: fmt.Errorf("answer uid %q, request uid %q", ans.UID, r.UID)}
	case !ans.Allowed:
		return ans, &SendError{Kind: ErrDenied, Err: fmt.Errorf("%s was denied: %s", r.Name, ans.Message)}
	case r.WantPatch && !ans.HasPatch():
		return ans, &SendError{Kind: ErrMissingPatch, Err: fmt.Errorf("%s: no patch", r.Name)}
	case !r.WantPatch && ans.HasPatch():
		return ans, &SendError{Kind: ErrUnexpectedPatch, Err: fmt.Errorf("%s: patch of %d bytes (base64)", r.Name, len(ans.patch))}
	}
	return ans, nil
}

// CertificateLog records the serving certificates clients verified: which
// ones, when each was first seen and on how many handshakes. It is safe for
// concurrent use.
type CertificateLog struct {
	start time.Time
	mu    sync.Mutex
	seen  map[string]*CertificateSeen
}

// CertificateSeen is one serving certificate as the clients saw it.
type CertificateSeen struct {
	// Serial is the certificate's serial number (decimal).
	Serial string
	// FirstSeen is when a handshake first presented it, from the log's start.
	FirstSeen time.Duration
	// Handshakes is how many handshakes presented it.
	Handshakes int
}

// NewCertificateLog returns an empty log whose times count from now.
func NewCertificateLog() *CertificateLog {
	return &CertificateLog{start: time.Now(), seen: map[string]*CertificateSeen{}}
}

// record is the tls.Config VerifyConnection hook: it runs after the chain
// was verified against RootCAs.
func (l *CertificateLog) record(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server presented no certificate")
	}
	serial := cs.PeerCertificates[0].SerialNumber.String()
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.seen[serial]
	if !ok {
		s = &CertificateSeen{Serial: serial, FirstSeen: time.Since(l.start)}
		l.seen[serial] = s
	}
	s.Handshakes++
	return nil
}

// Seen returns the certificates seen so far, in the order they first appeared.
func (l *CertificateLog) Seen() []CertificateSeen {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]CertificateSeen, 0, len(l.seen))
	for _, s := range l.seen {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b CertificateSeen) int { return cmp.Compare(a.FirstSeen, b.FirstSeen) })
	return out
}

// Handshakes is the number of handshakes recorded.
func (l *CertificateLog) Handshakes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.seen {
		n += s.Handshakes
	}
	return n
}
