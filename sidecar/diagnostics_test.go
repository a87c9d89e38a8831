package sidecar

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/gopherscope/gopherscope/internal/testlog"
	"github.com/gopherscope/gopherscope/internal/testpki"
	"github.com/gopherscope/gopherscope/sidecar/diagnostics"
)

// pprofApp serves net/http/pprof's handlers on a loopback port and returns
// the port.
func pprofApp(t *testing.T) int {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	ln := listenLoopback(t)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveSidecar runs Serve with opts until the test ends and returns the
// metrics port's URL.
func serveSidecar(t *testing.T, opts Options, log logr.Logger) string {
	t.Helper()
	ln := listenLoopback(t)
	done := make(chan error, 1)
	go func() { done <- Serve(t.Context(), ln, opts, log) }()
	t.Cleanup(func() { // after t.Context() ends
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the sidecar stopped: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the sidecar did not stop")
		}
	})
	return "http://" + ln.Addr().String()
}

// diagnosticsClient returns a CA and a client with the certificate it
// issued to the diagnostics server's name.
func diagnosticsClient(t *testing.T) (*testpki.CA, *http.Client) {
	t.Helper()
	ca := testpki.NewCAForTest(t)
	cert := ca.IssueTLS(t, testpki.CertSpec{CommonName: diagnostics.DefaultClientName, Client: true})
	return ca, &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert},
		// The sidecar's serving certificate is self-signed: the client's authenticates.
		InsecureSkipVerify: true,
	}}}
}

func TestDiagnosticsPortServesTheSampledAppsPprof(t *testing.T) {
	ca, c := diagnosticsClient(t)
	opts := testOptions(pprofApp(t), "")
	opts.ExpvarPath = ""
	diag := listenLoopback(t)
	opts.Diagnostics = diagnostics.Options{Listener: diag, ClientCAs: ca.PEM}
	metrics := serveSidecar(t, opts, testLogger(t))

	url := "https://" + diag.Addr().String() + diagnostics.PathPrefix + "goroutine?debug=1"
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			body = string(b)
			break
		}
		// Until the sampler has read the app's pprof once.
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.HasPrefix(body, "goroutine profile: total ") {
		t.Errorf("not the app's goroutine profile: %.200s", body)
	}
	// The metrics port serves no pprof, to anyone.
	resp, err := http.Get(metrics + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if strings.Contains(string(b), "goroutine profile") {
		t.Errorf("the metrics port served a goroutine profile")
	}
}

func TestABadDiagnosticsCABundleLeavesTheMetricsServed(t *testing.T) {
	logs := &testlog.Lines{}
	log := logs.Logger()
	opts := testOptions(pprofApp(t), "")
	opts.ExpvarPath = ""
	opts.Diagnostics = diagnostics.Options{Listener: listenLoopback(t), ClientCAs: []byte("not a bundle")}
	metrics := serveSidecar(t, opts, log)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(metrics + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sidecar never became ready: %d", resp.StatusCode)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if logs.Find(`"msg"="diagnostics port not served"`, "diagnostics CA bundle: no PEM certificate in it") == "" {
		t.Errorf("no log line says why the diagnostics port is not served:\n%s", logs)
	}
}
