package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildDemoApp builds this command into a temporary directory.
func buildDemoApp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo-app")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestDemoAppExitsZeroOnSIGTERM(t *testing.T) {
	bin := buildDemoApp(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), bin, "--debug-address=127.0.0.1:0", "--address=127.0.0.1:0",
				"--mode=prometheus", "--churn-goroutines", "--alloc-rate=1MiB/s")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil {
				t.Fatalf("read the listening line: %v; stderr:\n%s", err, stderr.String())
			}
			m := regexp.MustCompile(`^demo-app listening debug=(\S+) app=(\S+) mode=prometheus\n$`).FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("listening line = %q", line)
			}
			resp, err := http.Get("http://" + m[1] + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if !strings.Contains(string(body), "\ngo_goroutines ") {
				t.Errorf("/metrics has no go_goroutines")
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("demo-app exited with %v after %v, want 0; stderr:\n%s", err, sig, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("demo-app still running 10s after %v", sig)
			}
			for _, want := range []string{`"msg":"serving"`, `"mode":"prometheus"`, `"msg":"shutting down"`} {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("JSON logs lack %s:\n%s", want, stderr.String())
				}
			}
		})
	}
}

func TestDemoAppRefusesBadFlags(t *testing.T) {
	bin := buildDemoApp(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "an unknown mode", args: []string{"--mode=grpc"}, wantErr: `--mode "grpc": want expvar, prometheus or pprof`},
		{name: "a bad rate", args: []string{"--alloc-rate=fast"}, wantErr: `invalid value "fast" for flag -alloc-rate`},
		{name: "an unknown flag", args: []string{"--verbose"}, wantErr: "flag provided but not defined: -verbose"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" exits 2", func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), bin, tt.args...).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Errorf("exit = %v, want code 2; output:\n%s", err, out)
			}
			if !strings.Contains(string(out), tt.wantErr) {
				t.Errorf("output does not contain %q:\n%s", tt.wantErr, out)
			}
		})
	}
}
