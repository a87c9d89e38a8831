package diagnostics

import (
	"crypto/tls"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopherscope/gopherscope/internal/testlog"
	"github.com/gopherscope/gopherscope/internal/testpki"
)

// app is a real net/http/pprof server of the test process, counting the
// requests that reach it.
type app struct {
	url   string
	calls atomic.Int64
	// profileStarted receives once per CPU profile that reached the app.
	profileStarted chan struct{}
}

func newApp(t *testing.T) *app {
	t.Helper()
	a := &app{profileStarted: make(chan struct{}, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/profile", func(w http.ResponseWriter, r *http.Request) {
		a.profileStarted <- struct{}{}
		pprof.Profile(w, r)
	})
	url := serveHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		mux.ServeHTTP(w, r)
	}))
	a.url = url + "/debug/pprof"
	return a
}

// serveHTTP serves h on a loopback port until the test ends.
func serveHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// port is a diagnostics port serving on loopback for one test.
type port struct {
	url string
	ca  *testpki.CA
	log *testlog.Lines
}

func newPort(t *testing.T, opts Options, target Target) *port {
	t.Helper()
	return newLocalPort(t, opts, target, Local{})
}

// newLocalPort is newPort answering local's resources too.
func newLocalPort(t *testing.T, opts Options, target Target, local Local) *port {
	t.Helper()
	p := &port{ca: testpki.NewCAForTest(t), log: &testlog.Lines{}}
	opts.ListenAddress = "127.0.0.1:0"
	// The test's root, and any others the test gives.
	opts.ClientCAs = append(append([]byte{}, p.ca.PEM...), opts.ClientCAs...)
	srv, err := NewServer(opts, target, local, p.log.Logger())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(tls.NewListener(ln, srv.TLSConfig)) }()
	t.Cleanup(func() { _ = srv.Close() })
	p.url = "https://" + ln.Addr().String() + PathPrefix
	return p
}

// client is the diagnostics server's side: a client certificate, and no
// check of the sidecar's self-signed serving certificate.
func (p *port) client(cert *tls.Certificate) *http.Client {
	// The sidecar's serving certificate is self-signed: the client's authenticates.
	cfg := &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: time.Minute}
}

func (p *port) diagnosticsClient(t *testing.T) *http.Client {
	cert := p.ca.IssueTLS(t, testpki.CertSpec{CommonName: DefaultClientName, Client: true})
	return p.client(&cert)
}

type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func get(t *testing.T, c *http.Client, url string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(UserHeader, "alice")
	resp, err := c.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: body, err: err}
}

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}
