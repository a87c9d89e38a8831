package sidecar

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// A native sidecar's startup probe asks /healthz, and the app starts only
// once it passes: whatever the app's debug port does, /healthz must answer
// as soon as the sidecar listens, never after a request to the app.
func TestHealthzAnswersWhileTheFirstSampleWaitsOnTheApp(t *testing.T) {
	tests := []struct {
		name string
		// target returns the app's debug port, and a channel closed once
		// the sidecar's first request to it is under way (nil: none comes).
		target     func(t *testing.T) (port int, asked <-chan struct{})
		wantReason string
	}{
		{
			name:       "a debug port nothing listens on",
			target:     func(t *testing.T) (int, <-chan struct{}) { return refusingPort(t), nil },
			wantReason: "connection refused",
		},
		{
			name: "an app that accepts the request and never answers",
			target: func(t *testing.T) (int, <-chan struct{}) {
				asked, release := make(chan struct{}), make(chan struct{})
				var once sync.Once
				target := newFakeTarget(t)
				hang := func(_ http.ResponseWriter, r *http.Request) {
					once.Do(func() { close(asked) })
					select {
					case <-release:
					case <-r.Context().Done():
					}
				}
				target.serve(map[string]http.HandlerFunc{varsPath: hang, indexPath: hang})
				t.Cleanup(func() { close(release) })
				return target.port(), asked
			},
			wantReason: "no sample yet",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port, asked := tt.target(t)
			opts := testOptions(port, "")
			opts.Interval, opts.Timeout = time.Minute, 30*time.Second // the first sample waits as long as the app makes it
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- Serve(t.Context(), ln, opts, logr.Discard()) }()
			t.Cleanup(func() {
				if err := <-done; err != nil {
					t.Errorf("Serve: %v", err)
				}
			})
			url := "http://" + ln.Addr().String()
			if asked != nil {
				<-asked // the first sample is waiting on the app
			}

			if code, body := httpDo(t, http.MethodGet, url+"/healthz"); code != http.StatusOK || string(body) != "ok\n" {
				t.Errorf("/healthz: %d %q, want 200 ok", code, body)
			}
			waitFor(t, 10*time.Second, "/readyz to say why it is not ready", func() bool {
				code, body := httpDo(t, http.MethodGet, url+"/readyz")
				return code == http.StatusServiceUnavailable && strings.Contains(string(body), tt.wantReason)
			})
			if asked == nil {
				waitFor(t, 10*time.Second, "gopherscope_target_up 0", func() bool {
					_, body := httpDo(t, http.MethodGet, url+"/metrics")
					return strings.Contains(string(body), "\ngopherscope_target_up 0\n")
				})
			}
		})
	}
}

// refusingPort returns a port of 127.0.0.1 that refuses connections for the
// length of the test: a socket bound to it that never listens keeps any
// other test from taking it.
func refusingPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}
