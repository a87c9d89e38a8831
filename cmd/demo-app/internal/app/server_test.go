package app

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
)

var listeningLine = regexp.MustCompile(`^demo-app listening debug=(127\.0\.0\.1:\d+) app=(127\.0\.0\.1:\d+) mode=(\w+)\n$`)

func TestRunServesBothServersAndStopsOnCancel(t *testing.T) {
	opts := DefaultOptions()
	opts.DebugAddress, opts.Address, opts.Mode = "127.0.0.1:0", "127.0.0.1:0", ModePprof
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts, testr.New(t), outW) }()

	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the listening line: %v", err)
	}
	m := listeningLine.FindStringSubmatch(line)
	if m == nil || m[3] != "pprof" {
		t.Fatalf("listening line = %q, want it to match %s with mode=pprof", line, listeningLine)
	}
	debug, app := "http://"+m[1], "http://"+m[2]
	for _, p := range []struct {
		url  string
		want int
	}{
		{debug + "/debug/pprof/", 200}, {debug + "/debug/vars", 404},
		{app + "/healthz", 200}, {app + "/self", 200}, {app + "/debug/pprof/", 404},
	} {
		if got, _ := httpGet(t, p.url); got != p.want {
			t.Errorf("GET %s = %d, want %d", p.url, got, p.want)
		}
	}
	if status, body := call(t, http.MethodPost, app+"/goroutines?n=10"); status != 200 || body["parked"] != 10.0 {
		t.Errorf("POST /goroutines?n=10 = %d %v, want 200 with 10 parked", status, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of cancel")
	}
	for _, addr := range []string{m[1], m[2]} {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			t.Errorf("%s still accepts connections after Run returned", addr)
		}
	}
}

func TestRunFailsClearly(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	tests := []struct {
		name    string
		change  func(*Options)
		wantErr string
	}{
		{name: "an unknown mode", change: func(o *Options) { o.Mode = "grpc" }, wantErr: `--mode "grpc"`},
		{name: "a busy app port", change: func(o *Options) { o.Address = busy.Addr().String() },
			wantErr: `listen on app address "` + busy.Addr().String() + `"`},
		{name: "a busy debug port", change: func(o *Options) { o.DebugAddress = busy.Addr().String() },
			wantErr: `listen on debug address "` + busy.Addr().String() + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is an error", func(t *testing.T) {
			opts := DefaultOptions()
			opts.DebugAddress, opts.Address = "127.0.0.1:0", "127.0.0.1:0"
			tt.change(&opts)
			var out strings.Builder
			err := Run(t.Context(), opts, testr.New(t), &out)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Run error = %v, want one containing %q", err, tt.wantErr)
			}
			if out.Len() != 0 {
				t.Errorf("Run printed %q, want nothing when it does not listen", out.String())
			}
		})
	}
}
