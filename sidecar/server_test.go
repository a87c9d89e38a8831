package sidecar

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"

	"github.com/gopherscope/gopherscope/sidecar/history"
)

func TestMuxServesOnlyItsRoutes(t *testing.T) {
	target := newFakeTarget(t)
	opts := testOptions(target.port(), "")
	opts.PodName, opts.PodNamespace = "web-0", "shop"
	ring := history.New(10)
	s := NewSampler(opts, ring, logr.Discard())
	defer s.Close()
	srv := httptest.NewServer(NewMux(s, ring, opts, logr.Discard()))
	defer srv.Close()

	do := func(method, path string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}

	// Before the target ever answered.
	if code, body, _ := do(http.MethodGet, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "no sample yet") {
		t.Errorf("/readyz before any sample = %d %q, want 503 naming why", code, body)
	}
	s.SampleOnce(t.Context())
	if code, body, _ := do(http.MethodGet, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "expvar: ") {
		t.Errorf("/readyz while the target is missing = %d %q, want 503 naming each source's error", code, body)
	}
	target.serve(map[string]http.HandlerFunc{varsPath: fixtureBody(t, "vars.json"), indexPath: fixtureBody(t, "pprof-index.html")})
	time.Sleep(1100 * time.Millisecond) // past the backoff
	s.SampleOnce(t.Context())

	tests := []struct {
		method, path string
		wantCode     int
		wantIn       string
	}{
		{http.MethodGet, "/metrics", http.StatusOK, "go_memstats_heap_inuse_bytes 1.253376e+06"},
		{http.MethodGet, "/healthz", http.StatusOK, "ok"},
		{http.MethodHead, "/healthz", http.StatusOK, ""},
		{http.MethodPost, "/healthz", http.StatusMethodNotAllowed, ""},
		{http.MethodGet, "/readyz", http.StatusOK, "ok"},
		{http.MethodGet, "/api/v1/history", http.StatusOK, `"pod":"web-0"`},
		{http.MethodGet, "/", http.StatusOK, "api/v1/history"}, // the page, which fetches the history
		{http.MethodGet, "/debug/pprof/", http.StatusNotFound, ""},
		{http.MethodGet, "/debug/vars", http.StatusNotFound, ""},
		{http.MethodGet, "/nothing", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		code, body, _ := do(tt.method, tt.path)
		if code != tt.wantCode || !strings.Contains(body, tt.wantIn) {
			t.Errorf("%s %s = %d (body %.80q), want %d containing %q", tt.method, tt.path, code, body, tt.wantCode, tt.wantIn)
		}
	}
	if _, body, h := do(http.MethodGet, "/metrics"); !strings.HasPrefix(h.Get("Content-Type"), "text/plain; version=0.0.4") || strings.Contains(body, "process_") {
		t.Errorf("/metrics content type %q, or the sidecar's own process_* series leaked", h.Get("Content-Type"))
	}
}

func TestSamplerRecordsHistoryPoints(t *testing.T) {
	target := newFakeTarget(t)
	ring := history.New(10)
	s := NewSampler(testOptions(target.port(), ""), ring, logr.Discard())
	defer s.Close()
	for _, vars := range []string{"vars-wrapped.json", "vars.json"} {
		target.serve(map[string]http.HandlerFunc{varsPath: fixtureBody(t, vars), indexPath: fixtureBody(t, "pprof-index.html")})
		s.SampleOnce(t.Context())
	}
	points := ring.Points()
	if len(points) != 2 {
		t.Fatalf("%d points, want 2", len(points))
	}
	f := func(v float64) *float64 { return &v }
	got := points[1]
	want := history.Point{
		Time:             got.Time,
		Goroutines:       f(1),
		Threads:          f(6),
		HeapInuseBytes:   f(1253376),
		HeapAllocBytes:   f(458968),
		HeapSysBytes:     f(3899392),
		AllocBytesTotal:  f(61840456 + 1418480), // the old process's total + the new one's
		GCCount:          f(305),                // 300 before the restart + 5 after
		GCPauseQuantiles: &[5]float64{0.0001004, 0.000187578, 0.000224924, 0.000325884, 0.000916713},
		TargetUp:         true,
		Restarted:        true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("point after the restart (-want +got):\n%s", diff)
	}
	if points[0].Restarted || *points[1].AllocBytesTotal <= *points[0].AllocBytesTotal {
		t.Errorf("allocation counter went from %v to %v across the restart, want it to keep growing", *points[0].AllocBytesTotal, *points[1].AllocBytesTotal)
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	target := newFakeTarget(t)
	target.serve(map[string]http.HandlerFunc{varsPath: fixtureBody(t, "vars.json")})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, testOptions(target.port(), ""), logr.Discard()) }()

	url := "http://" + ln.Addr().String() + "/readyz"
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(url) //nolint:noctx // a test poll
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v, want nil on shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
	if resp, err := http.Get(url); err == nil { //nolint:noctx // a test probe
		_ = resp.Body.Close()
		t.Error("still serving after shutdown")
	}
}

func TestEveryScraperOfASampleGetsTheSameRendering(t *testing.T) {
	target := newFakeTarget(t)
	target.serve(map[string]http.HandlerFunc{varsPath: fixtureBody(t, "vars.json"), indexPath: fixtureBody(t, "pprof-index.html")})
	s := NewSampler(testOptions(target.port(), ""), history.New(10), logr.Discard())
	defer s.Close()
	h := MetricsHandler(s, logr.Discard())
	scrape := func(acceptEncoding string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if acceptEncoding != "" {
			req.Header.Set("Accept-Encoding", acceptEncoding)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	if rec := scrape(""); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("before any sample: %d with %d bytes, want 200 and an empty exposition", rec.Code, rec.Body.Len())
	}
	first := s.SampleOnce(t.Context())
	plain := scrape("").Body.Bytes()
	if !bytes.Contains(plain, []byte("go_memstats_heap_inuse_bytes 1.253376e+06")) {
		t.Fatalf("exposition lacks the sample's heap:\n%s", plain)
	}
	gz := scrape("gzip, deflate")
	if gz.Header().Get("Content-Encoding") != "gzip" || gz.Header().Get("Content-Length") != strconv.Itoa(gz.Body.Len()) {
		t.Errorf("headers %v, want gzip with the body's length", gz.Header())
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	if unzipped, _ := io.ReadAll(zr); !bytes.Equal(unzipped, plain) {
		t.Error("the gzipped exposition differs from the plain one")
	}
	if rec := scrape("gzip;q=0, identity"); rec.Header().Get("Content-Encoding") != "" || !bytes.Equal(rec.Body.Bytes(), plain) {
		t.Error("gzip;q=0 got a compressed answer")
	}

	format := expfmt.NegotiateAccept(http.Header{}, expfmt.DefaultAcceptedFormats()...)
	a, b := first.exposition(format, false, logr.Discard()), first.exposition(format, false, logr.Discard())
	if &a[0] != &b[0] {
		t.Error("a second scrape of the same sample rendered it again")
	}
	time.Sleep(10 * time.Millisecond) // a later last-sample timestamp
	s.SampleOnce(t.Context())
	bodies := make([][]byte, 10)
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Go(func() { bodies[i] = scrape("gzip").Body.Bytes() })
	}
	wg.Wait()
	for _, b := range bodies {
		if !bytes.Equal(b, bodies[0]) {
			t.Fatal("concurrent scrapers of one sample got different bytes")
		}
	}
	if bytes.Equal(bodies[0], gz.Body.Bytes()) {
		t.Error("a new sample served the previous sample's exposition")
	}
}
