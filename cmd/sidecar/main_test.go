package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar"
	"github.com/gopherscope/gopherscope/version"
)

func TestExecute(t *testing.T) {
	env := map[string]string{envPodName: "web-0", envPodNamespace: "shop", envGOMAXPROCS: "2",
		sidecarconf.EnvAppMemoryLimit: "134217728", sidecarconf.EnvAppCPULimitMillis: "500m",
		sidecarconf.EnvDiagnosticsCA: "-----BEGIN CERTIFICATE-----"}
	tests := []struct {
		name       string
		args       []string
		runErr     error
		wantCode   int
		wantRun    bool
		wantStdout string
		wantStderr string // a fragment
	}{
		{name: "the injector's flags run the sidecar", args: []string{"--target-ports=6060", "--interval=10s"}, wantRun: true, wantStderr: `"msg":"sidecar stopped"`},
		{name: "--version prints the version only", args: []string{"--version"}, wantStdout: version.Version + "\n"},
		{name: "-h prints the usage and succeeds", args: []string{"-h"}, wantStderr: "-target-ports"},
		{name: "an unknown flag is a usage error", args: []string{"--target-port=1"}, wantCode: 2, wantStderr: "flag provided but not defined"},
		{name: "a stray argument is a usage error", args: []string{"serve"}, wantCode: 2, wantStderr: `unexpected arguments: ["serve"]`},
		{name: "an invalid option is a usage error", args: []string{"--interval=10ms"}, wantCode: 2, wantStderr: "sidecar: --interval: 10ms is shorter than the minimum 1s"},
		{name: "a failing sidecar exits 1 with one log line", runErr: errors.New("listen: address in use"), wantRun: true, wantCode: 1,
			wantStderr: `"msg":"sidecar stopped","version":"` + version.Version + `","error":"listen: address in use"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *sidecar.Options
			run := func(_ context.Context, opts sidecar.Options, log logr.Logger) error {
				got = &opts
				if !log.Enabled() {
					t.Error("run got a disabled logger")
				}
				return tt.runErr
			}
			var stdout, stderr bytes.Buffer
			code := execute(t.Context(), tt.args, func(k string) string { return env[k] }, &stdout, &stderr, run)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if (got != nil) != tt.wantRun {
				t.Fatalf("run called: %v, want %v", got != nil, tt.wantRun)
			}
			if stdout.String() != tt.wantStdout {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr.String())
			}
			if got != nil && (got.PodName != "web-0" || got.PodNamespace != "shop" || got.UserAgent != "gopherscope-sidecar/"+version.Version) {
				t.Errorf("pod %s/%s, user agent %q: want the downward API's shop/web-0 and the versioned agent", got.PodNamespace, got.PodName, got.UserAgent)
			}
			if got != nil && string(got.Diagnostics.ClientCAs) != env[sidecarconf.EnvDiagnosticsCA] {
				t.Errorf("diagnostics CA bundle %q, want $%s's", got.Diagnostics.ClientCAs, sidecarconf.EnvDiagnosticsCA)
			}
			// The memory limit reaches the findings; the malformed CPU limit is
			// unknown and said so, and the sidecar runs anyway.
			if got != nil && (got.Limits.MemoryBytes != 134217728 || got.Limits.CPU != 0) {
				t.Errorf("limits %+v, want 128 MiB of memory and an unknown CPU limit", got.Limits)
			}
			if got != nil && !strings.Contains(stderr.String(), sidecarconf.EnvAppCPULimitMillis) {
				t.Errorf("stderr does not name the malformed %s:\n%s", sidecarconf.EnvAppCPULimitMillis, stderr.String())
			}
		})
	}
}
