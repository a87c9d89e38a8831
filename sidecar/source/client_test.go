package source

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCappedReader(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		limit   int64
		want    string
		wantErr error
	}{
		{name: "a body under the cap is read whole", body: "hello", limit: 10, want: "hello"},
		{name: "a body exactly at the cap is read whole", body: "hello", limit: 5, want: "hello"},
		{name: "a body one byte over the cap is an error", body: "hello!", limit: 5, want: "hello", wantErr: ErrBodyTooLarge},
		{name: "an empty body is fine", body: "", limit: 5, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(&cappedReader{r: strings.NewReader(tt.body), remaining: tt.limit})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientGet(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("Accept")+"|"+r.Header.Get("User-Agent"))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/big-declared", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(1<<20))
		_, _ = w.Write(make([]byte, 1<<20))
	})
	mux.HandleFunc("/big-chunked", func(w http.ResponseWriter, _ *http.Request) {
		for range 64 {
			_, _ = w.Write(make([]byte, 16<<10))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/slow", func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	c := NewClient(300*time.Millisecond, 64<<10, "gopherscope-test")
	defer c.Close()
	get := func(path string) (string, error) {
		var body string
		err := c.Get(t.Context(), srv.URL+path, "text/plain", func(r io.Reader, _ http.Header) error {
			b, err := io.ReadAll(r)
			body = string(b)
			return err
		})
		return body, err
	}

	t.Run("a 200 hands the body over with our headers", func(t *testing.T) {
		body, err := get("/ok")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff("text/plain|gopherscope-test", body); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("a 500 is a status error", func(t *testing.T) {
		_, err := get("/fail")
		var se *StatusError
		if !errors.As(err, &se) || se.Code != http.StatusInternalServerError {
			t.Fatalf("error = %v, want a 500 StatusError", err)
		}
	})
	t.Run("a redirect is not followed", func(t *testing.T) {
		_, err := get("/redirect")
		var se *StatusError
		if !errors.As(err, &se) || se.Code != http.StatusFound {
			t.Fatalf("error = %v, want a 302 StatusError", err)
		}
	})
	t.Run("a declared length over the cap is refused unread", func(t *testing.T) {
		body, err := get("/big-declared")
		if !errors.Is(err, ErrBodyTooLarge) || body != "" {
			t.Fatalf("error = %v with %d bytes read, want ErrBodyTooLarge and nothing read", err, len(body))
		}
	})
	t.Run("an undeclared length over the cap stops at the cap", func(t *testing.T) {
		body, err := get("/big-chunked")
		if !errors.Is(err, ErrBodyTooLarge) || len(body) != 64<<10 {
			t.Fatalf("error = %v with %d bytes read, want ErrBodyTooLarge after %d", err, len(body), 64<<10)
		}
	})
	t.Run("a slow endpoint times out", func(t *testing.T) {
		start := time.Now()
		_, err := get("/slow")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error = %v, want a deadline error", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s, want about the 300ms timeout", d)
		}
	})
}

func TestBackoffGrowsWithJitterUpToTheMaximum(t *testing.T) {
	now := time.Unix(1000, 0)
	jitter := 0.0
	b := backoff{base: time.Second, max: 10 * time.Second, jitter: func() float64 { return jitter }}
	var lows, highs []time.Duration
	for range 6 {
		lows = append(lows, b.failure(now))
	}
	b.success()
	if !b.ready(now) {
		t.Fatal("not ready after a success")
	}
	jitter = 0.999999999
	for range 6 {
		highs = append(highs, b.failure(now).Round(time.Millisecond))
	}
	s := time.Second
	if diff := cmp.Diff([]time.Duration{s / 2, s, 2 * s, 4 * s, 5 * s, 5 * s}, lows); diff != "" {
		t.Errorf("delays with the least jitter (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{s, 2 * s, 4 * s, 8 * s, 10 * s, 10 * s}, highs); diff != "" {
		t.Errorf("delays with the most jitter (-want +got):\n%s", diff)
	}
	if b.ready(now.Add(9 * time.Second)) {
		t.Error("ready before the delay passed")
	}
	if !b.ready(now.Add(10 * time.Second)) {
		t.Error("not ready once the delay passed")
	}
}

// freePort returns a port nothing listens on (it was free a moment ago).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

func serverPort(t *testing.T, srv *httptest.Server) int {
	t.Helper()
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

func TestEndpointProbesPortsInOrderAndReprobesAfterFailures(t *testing.T) {
	var hitsA, hitsB atomic.Int32
	handler := func(hits *atomic.Int32) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			_, _ = io.WriteString(w, `{"memstats": {"NumGC": 1}}`)
		}
	}
	a := httptest.NewServer(handler(&hitsA))
	b := httptest.NewServer(handler(&hitsB))
	defer b.Close()
	dead := freePort(t)
	now := time.Unix(0, 0)
	src := NewExpvar(Config{
		Host:        "127.0.0.1",
		Ports:       []int{dead, serverPort(t, a), serverPort(t, b)},
		Client:      NewClient(time.Second, 0, ""),
		BackoffBase: time.Second,
		BackoffMax:  time.Second,
		Now:         func() time.Time { return now },
	}, "/debug/vars")

	if _, err := src.Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := src.Port(), serverPort(t, a); got != want {
		t.Fatalf("port = %d, want the first that answers, %d", got, want)
	}
	a.Close() // the app moved to b's port
	for i := range reprobeAfter {
		now = now.Add(time.Hour) // past any backoff
		if _, err := src.Fetch(t.Context()); err == nil {
			t.Fatalf("attempt %d on a closed port succeeded", i)
		}
	}
	now = now.Add(time.Hour)
	if _, err := src.Fetch(t.Context()); err != nil {
		t.Fatalf("no recovery by re-probing: %v", err)
	}
	if got, want := src.Port(), serverPort(t, b); got != want {
		t.Errorf("port = %d, want %d after re-probing", got, want)
	}
	if hitsA.Load() != 1 || hitsB.Load() != 1 {
		t.Errorf("hits a=%d b=%d, want 1 each", hitsA.Load(), hitsB.Load())
	}
}

func TestSourcesBackOffAfterFailures(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	now := time.Unix(0, 0)
	src := NewPrometheus(Config{
		Host: "127.0.0.1", Ports: []int{serverPort(t, srv)}, Client: NewClient(time.Second, 0, ""),
		BackoffBase: 10 * time.Second, BackoffMax: time.Minute, Now: func() time.Time { return now },
	}, "/metrics")
	if _, _, err := src.Fetch(t.Context()); err == nil {
		t.Fatal("a 503 succeeded")
	}
	if _, _, err := src.Fetch(t.Context()); !errors.Is(err, ErrBackingOff) {
		t.Fatalf("error = %v right after a failure, want ErrBackingOff", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("%d requests, want 1: backing off must not ask the app", hits.Load())
	}
	now = now.Add(10 * time.Second)
	if _, _, err := src.Fetch(t.Context()); err == nil || errors.Is(err, ErrBackingOff) {
		t.Fatalf("error = %v after the backoff, want a new attempt", err)
	}
	if hits.Load() != 2 {
		t.Fatalf("%d requests, want 2", hits.Load())
	}
}

func TestPprofFallsBackToTheGoroutineHeader(t *testing.T) {
	tests := []struct {
		name           string
		index          http.HandlerFunc
		want           ProfileCounts
		wantFallbackOK bool
	}{
		{
			name:  "an index with counts needs no fallback",
			index: func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, fixture(t, "pprof-index.html")) },
			want:  ProfileCounts{Goroutines: 1, Threads: 6, HasGoroutines: true, HasThreads: true},
		},
		{
			name: "an index without counts falls back",
			index: func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, fixture(t, "pprof-index-nocounts.html"))
			},
			want:           ProfileCounts{Goroutines: 1, HasGoroutines: true},
			wantFallbackOK: true,
		},
		{
			name:           "a missing index falls back",
			index:          http.NotFound,
			want:           ProfileCounts{Goroutines: 1, HasGoroutines: true},
			wantFallbackOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fallbacks atomic.Int32
			mux := http.NewServeMux()
			mux.HandleFunc("/debug/pprof/{$}", tt.index)
			mux.HandleFunc("/debug/pprof/goroutine", func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Query().Get("debug") != "1" {
					t.Errorf("goroutine profile requested with %q", r.URL.RawQuery)
				}
				fallbacks.Add(1)
				_, _ = io.WriteString(w, fixture(t, "goroutine-debug1.txt"))
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			src := NewPprof(Config{Host: "127.0.0.1", Ports: []int{serverPort(t, srv)}, Client: NewClient(time.Second, 0, "")}, "/debug/pprof/")
			got, err := src.Fetch(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if (fallbacks.Load() > 0) != tt.wantFallbackOK {
				t.Errorf("fallback used %d times, want used: %v", fallbacks.Load(), tt.wantFallbackOK)
			}
		})
	}
}

func TestClientGetBytesReadsUpToTheCapExactly(t *testing.T) {
	const limit = 100 << 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		for range n { // no Content-Length: the cap is found while reading
			_, _ = w.Write([]byte{'x'})
		}
	}))
	defer srv.Close()
	c := NewClient(5*time.Second, limit, "")
	defer c.Close()
	tests := []struct {
		name    string
		n       int
		wantErr error
	}{
		{name: "an empty body", n: 0},
		{name: "a body one byte under the cap", n: limit - 1},
		{name: "a body exactly at the cap", n: limit},
		{name: "a body one byte over the cap", n: limit + 1, wantErr: ErrBodyTooLarge},
	}
	buf := make([]byte, 0, 10) // reused, and too small at first
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.GetBytes(t.Context(), srv.URL+"/?n="+strconv.Itoa(tt.n), "", buf)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && len(got) != tt.n {
				t.Errorf("read %d bytes, want %d", len(got), tt.n)
			}
			if cap(got) > limit {
				t.Errorf("buffer grew to %d bytes, past the %d cap", cap(got), limit)
			}
			buf = got[:0]
		})
	}
}
