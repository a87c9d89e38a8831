package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gopherscope/gopherscope/diagnostics"
	"github.com/gopherscope/gopherscope/diagnostics/selftls"
	"github.com/gopherscope/gopherscope/version"
)

func TestExecute(t *testing.T) {
	self := []string{"--namespace=gopherscope-system", "--ca-secret=gs-diagnostics-ca", "--ca-bundle-configmap=gs-diagnostics-ca",
		"--apiservice=v1alpha1.diagnostics.gopherscope.io", "--tls-dns-names=gs-diagnostics.gopherscope-system.svc, gs-diagnostics.gopherscope-system.svc.cluster.local",
		"--root-validity=87600h", "--root-overlap=8760h", "--cert-validity=24h"}
	all := []string{"--tls-cert-file=tls.crt", "--tls-private-key-file=tls.key", "--sidecar-client-cert-file=client.crt", "--sidecar-client-key-file=client.key"}
	tests := []struct {
		name       string
		args       []string
		runErr     error
		wantCode   int
		wantRun    *diagnostics.RunOptions
		wantStdout string
		wantStderr string // a fragment
	}{
		{name: "the chart's flags run the server", args: append([]string{"--listen-address=:9443"}, all...),
			wantRun: &diagnostics.RunOptions{ListenAddress: ":9443", CertFile: "tls.crt", KeyFile: "tls.key", ClientCertFile: "client.crt", ClientKeyFile: "client.key"}},
		{name: "--version prints the version only", args: []string{"--version"}, wantStdout: version.Version + "\n"},
		{name: "every missing file is named at once", args: []string{"--tls-cert-file=tls.crt"}, wantCode: 2,
			wantStderr: "--tls-private-key-file is required (or --ca-secret for self-managed TLS)\n--sidecar-client-cert-file is required"},
		{name: "the chart's self-managed TLS flags", args: self, wantRun: &diagnostics.RunOptions{ListenAddress: ":8443", SelfTLS: &selftls.Options{
			Namespace: "gopherscope-system", SecretName: "gs-diagnostics-ca", ConfigMapName: "gs-diagnostics-ca", APIService: "v1alpha1.diagnostics.gopherscope.io",
			DNSNames:     []string{"gs-diagnostics.gopherscope-system.svc", "gs-diagnostics.gopherscope-system.svc.cluster.local"},
			RootValidity: 87600 * time.Hour, RootOverlap: 8760 * time.Hour, CertValidity: 24 * time.Hour,
		}}},
		{name: "self-managed TLS needs its names and sane durations", args: []string{"--ca-secret=x", "--namespace=", "--cert-validity=1m", "--tls-cert-file=a"}, wantCode: 2,
			wantStderr: "--tls-cert-file and --ca-secret exclude each other"},
		{name: "self-managed TLS says every missing piece", args: []string{"--ca-secret=x", "--namespace=", "--cert-validity=1m"}, wantCode: 2,
			wantStderr: "the namespace is required\nthe ConfigMap is required\nthe APIService is required\nthe serving certificate needs at least one DNS name\ncertificate validity 1m0s is shorter than 10m"},
		{name: "a stray argument is a usage error", args: append(append([]string{}, all...), "serve"), wantCode: 2, wantStderr: `unexpected arguments: ["serve"]`},
		{name: "an unknown flag is a usage error", args: []string{"--port=1"}, wantCode: 2, wantStderr: "flag provided but not defined"},
		{name: "a failing server exits 1 with one log line", args: all, runErr: errors.New("listen: address in use"), wantCode: 1,
			wantRun:    &diagnostics.RunOptions{ListenAddress: ":8443", CertFile: "tls.crt", KeyFile: "tls.key", ClientCertFile: "client.crt", ClientKeyFile: "client.key"},
			wantStderr: `"msg":"diagnostics API stopped"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *diagnostics.RunOptions
			run := func(_ context.Context, opts diagnostics.RunOptions, _ logr.Logger) error {
				got = &opts
				return tt.runErr
			}
			var stdout, stderr bytes.Buffer
			if code := execute(t.Context(), tt.args, &stdout, &stderr, run); code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if diff := cmp.Diff(tt.wantRun, got, cmpopts.IgnoreFields(selftls.Options{}, "Log", "Now", "Client", "Dynamic")); diff != "" {
				t.Errorf("run's options (-want +got):\n%s", diff)
			}
			if stdout.String() != tt.wantStdout || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stdout %q (want %q), stderr %q (want it to contain %q)", stdout.String(), tt.wantStdout, stderr.String(), tt.wantStderr)
			}
		})
	}
}
