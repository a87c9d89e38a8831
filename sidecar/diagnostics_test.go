package sidecar

import (
	"crypto/tls"
	"encoding/json"
	"expvar"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/internal/testlog"
	"github.com/gopherscope/gopherscope/internal/testpki"
	"github.com/gopherscope/gopherscope/sidecar/diagnostics"
	"github.com/gopherscope/gopherscope/sidecar/findings"
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

// statsApp serves this test process's net/http/pprof and expvar on a
// loopback port and returns the port.
func statsApp(t *testing.T) int {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.Handle("/debug/vars", expvar.Handler())
	ln := listenLoopback(t)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// getBody asks url with c (nil: the default client) and returns the
// status, Allow header and body.
func getBody(t *testing.T, c *http.Client, method, url string) (int, string, []byte) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Allow"), b
}

// TestDiagnosticsPortServesTheSidecarsStatsAndHistory runs the sidecar in
// front of this test process (its pprof and expvar), under a memory limit
// so that no_gomemlimit is active, and reads stats and history from its
// diagnostics port.
func TestDiagnosticsPortServesTheSidecarsStatsAndHistory(t *testing.T) {
	ca, c := diagnosticsClient(t)
	opts := testOptions(statsApp(t), "")
	opts.PodNamespace, opts.PodName = "shop", "checkout"
	opts.Limits = findings.Limits{MemoryBytes: 128 << 20}
	diag := listenLoopback(t)
	opts.Diagnostics = diagnostics.Options{Listener: diag, ClientCAs: ca.PEM}
	logs := &testlog.Lines{}
	metrics := serveSidecar(t, opts, logs.Logger())
	base := "https://" + diag.Addr().String() + diagnostics.PathPrefix
	runtime.GC() // at least one pause for the percentile

	// Until two samples are in, so that there are rates too.
	var stats api.StatsResponse
	deadline := time.Now().Add(20 * time.Second)
	for stats.RateWindow == "" || stats.GCPauseP99Seconds == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no stats with rates and a pause percentile in time: %+v", stats)
		}
		time.Sleep(200 * time.Millisecond)
		status, _, b := getBody(t, c, http.MethodGet, base+api.Stats)
		if status != http.StatusOK {
			t.Fatalf("stats: %d %s", status, b)
		}
		if err := json.Unmarshal(b, &stats); err != nil {
			t.Fatalf("decode stats %s: %v", b, err)
		}
	}
	goroutines := float64(runtime.NumGoroutine())
	if stats.Namespace != "shop" || stats.Pod != "checkout" || stats.Interval != "1s" || !stats.TargetUp ||
		stats.Goroutines == nil || !within(*stats.Goroutines, goroutines, 10) {
		t.Errorf("stats %+v; want shop/checkout sampled every 1s, up, with about the %v goroutines this process has", stats, goroutines)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if stats.HeapInuseBytes == nil || *stats.HeapInuseBytes <= 0 || stats.Threads == nil || *stats.Threads < 1 ||
		stats.AllocBytesPerSecond == nil || *stats.AllocBytesPerSecond <= 0 || stats.GCPerSecond == nil ||
		stats.GCPauseCount < 1 || stats.GCPauseCount > min(int(ms.NumGC), 256) || *stats.GCPauseP99Seconds <= 0 {
		t.Errorf("stats %+v; want the heap, threads, a positive allocation rate, a GC rate and the pause percentile", stats)
	}

	// Findings as the metrics port serves them, of the same sample.
	for range 5 {
		_, _, b := getBody(t, c, http.MethodGet, base+api.Stats)
		_, _, f := getBody(t, nil, http.MethodGet, metrics+FindingsPath)
		var fromStats api.StatsResponse
		var fromAPI FindingsResponse
		if json.Unmarshal(b, &fromStats) != nil || json.Unmarshal(f, &fromAPI) != nil {
			t.Fatalf("decode %s or %s", b, f)
		}
		if len(fromAPI.Findings) != 1 || fromAPI.Findings[0].Kind != findings.NoGOMEMLIMIT {
			t.Fatalf("%s = %s, want no_gomemlimit", FindingsPath, f)
		}
		if cmp.Equal(fromStats.Findings, fromAPI.Findings) {
			break
		}
		t.Logf("a sample between the reads? stats' findings %+v, %s's %+v", fromStats.Findings, FindingsPath, fromAPI.Findings)
	}

	// History: the metrics port's, byte for byte (read again if a sample
	// came between the two reads).
	for i := 0; ; i++ {
		_, _, viaDiag := getBody(t, c, http.MethodGet, base+api.History)
		_, _, viaMetrics := getBody(t, nil, http.MethodGet, metrics+"/api/v1/history")
		if string(viaDiag) == string(viaMetrics) && len(viaDiag) > 0 {
			var h api.HistoryResponse
			if err := json.Unmarshal(viaDiag, &h); err != nil || h.Namespace != "shop" || len(h.Points) < 2 {
				t.Errorf("history %s: %v", viaDiag, err)
			}
			break
		}
		if i == 5 {
			t.Fatalf("history via the diagnostics port:\n%s\nvia the metrics port:\n%s", viaDiag, viaMetrics)
		}
	}

	for _, tc := range []struct {
		method, path string
		status       int
		allow, body  string
	}{
		{http.MethodGet, api.Stats + "?watch=true", http.StatusBadRequest, "", `stats takes no query parameters, got "watch=true"`},
		{http.MethodGet, api.History + "?seconds=10", http.StatusBadRequest, "", `history takes no query parameters, got "seconds=10"`},
		{http.MethodPost, api.Stats, http.StatusMethodNotAllowed, "GET, HEAD", "POST is not allowed"},
		{http.MethodPut, api.History, http.StatusMethodNotAllowed, "GET, HEAD", "PUT is not allowed"},
		{http.MethodHead, api.Stats, http.StatusOK, "", ""},
	} {
		status, allow, b := getBody(t, c, tc.method, base+tc.path)
		if status != tc.status || allow != tc.allow || !strings.Contains(string(b), tc.body) {
			t.Errorf("%s %s: %d %q (Allow %q); want %d with %q (Allow %q)", tc.method, tc.path, status, b, allow, tc.status, tc.body, tc.allow)
		}
	}
	if line := logs.Find(`"msg"="diagnostics request"`, `"resource"="stats"`, `"query"="watch=true"`, `"status"=400`, `"reason"="stats takes no query parameters`); line == "" {
		t.Errorf("no audit line for the refused stats query:\n%s", logs)
	}
	if lines := logs.Matching(`"msg"="diagnostics request"`, `"resource"="history"`, `"status"=200`); len(lines) == 0 {
		t.Errorf("no audit line for the history read:\n%s", strings.Join(logs.Matching(`"resource"="history"`), "\n"))
	}
}
