package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/auditor"
	"github.com/gopherscope/gopherscope/version"
	"github.com/gopherscope/gopherscope/webhook"
)

func TestExecuteParsesOptions(t *testing.T) {
	defaults := Options{
		CertDir: "/etc/gopherscope/tls", Port: 9443, MetricsAddress: ":8080", HealthAddress: ":8081",
		Namespace: "gopherscope-system", LogLevel: "info",
		AuditorSettings: auditor.Settings{Period: 5 * time.Minute, RestartCooldown: time.Hour}, LeaderElectionID: "gopherscope-auditor",
		SelfTLS: webhook.SelfTLS{CAValidity: 87600 * time.Hour, Validity: 8760 * time.Hour, RenewBefore: 2160 * time.Hour, CheckInterval: time.Hour},
	}
	tests := []struct {
		name    string
		args    []string
		env     string // POD_NAMESPACE
		want    *Options
		wantErr string
	}{
		{name: "no flags give the defaults and the pod's namespace", env: "gopherscope-system", want: &defaults},
		{
			name: "the chart's command line", env: "gopherscope-system",
			args: []string{"--config=/etc/gopherscope/config/config.yaml", "--cert-dir=/etc/gopherscope/tls", "--port=9443",
				"--metrics-address=:8080", "--health-address=:8081", "--namespace=gs", "--enable-http2=false", "--log-level=info"},
			want: func() *Options {
				o := defaults
				o.ConfigPath, o.Namespace = "/etc/gopherscope/config/config.yaml", "gs"
				return &o
			}(),
		},
		{
			name: "single-dash flags and a debug level", env: "",
			args: []string{"-port", "10250", "-enable-http2", "-log-level", "debug"},
			want: func() *Options {
				o := defaults
				o.Port, o.EnableHTTP2, o.LogLevel, o.Namespace = 10250, true, "debug", ""
				return &o
			}(),
		},
		{name: "a port out of range", args: []string{"--port=70000"}, wantErr: "--port: 70000 is not a port"},
		{name: "an unknown log level", args: []string{"--log-level=loud"}, wantErr: `--log-level: "loud" is not one of`},
		{name: "every problem at once", args: []string{"--port=0", "--cert-dir=", "--metrics-address="},
			wantErr: "--port: 0 is not a port (1-65535)\n--cert-dir: must not be empty\n--metrics-address: must not be empty"},
		{
			name: "the chart's auditor flags with two replicas and restarts on", env: "gs",
			args: []string{"--auditor=true", "--auditor-period=1m", "--auditor-restart=true", "--auditor-restart-cooldown=30m",
				"--leader-elect=true", "--leader-election-id=gopherscope-auditor-x"},
			want: func() *Options {
				o := defaults
				o.Namespace, o.Auditor, o.LeaderElection, o.LeaderElectionID = "gs", true, true, "gopherscope-auditor-x"
				o.AuditorSettings = auditor.Settings{Period: time.Minute, RolloutRestart: true, RestartCooldown: 30 * time.Minute}
				return &o
			}(),
		},
		{
			name: "the chart's self-managed TLS flags", env: "gs",
			args: []string{"--tls-self-secret=gs-tls", "--tls-self-dns-names=gs.gs.svc,gs.gs.svc.cluster.local",
				"--tls-self-webhooks=mutating/gs,validating/gs", "--tls-self-ca-validity=1000h", "--tls-self-validity=100h",
				"--tls-self-renew-before=10h", "--tls-self-check-interval=1m"},
			want: func() *Options {
				o := defaults
				o.Namespace = "gs"
				o.SelfTLS = webhook.SelfTLS{
					SecretName: "gs-tls", DNSNames: []string{"gs.gs.svc", "gs.gs.svc.cluster.local"},
					Webhooks:   []webhook.ConfigurationRef{{Name: "gs"}, {Validating: true, Name: "gs"}},
					CAValidity: 1000 * time.Hour, Validity: 100 * time.Hour, RenewBefore: 10 * time.Hour, CheckInterval: time.Minute,
				}
				return &o
			}(),
		},
		{
			name: "the chart's diagnostics CA ConfigMap", env: "gs",
			args: []string{"--diagnostics-ca-configmap=gopherscope-diagnostics-ca"},
			want: func() *Options {
				o := defaults
				o.Namespace, o.DiagnosticsCAConfigMap = "gs", "gopherscope-diagnostics-ca"
				return &o
			}(),
		},
		{name: "a diagnostics CA ConfigMap without a namespace", env: "", args: []string{"--diagnostics-ca-configmap=gs-diagnostics-ca"},
			wantErr: "--diagnostics-ca-configmap: needs --namespace (or $POD_NAMESPACE), where the ConfigMap is"},
		{name: "a diagnostics CA ConfigMap that cannot be a name", env: "gs", args: []string{"--diagnostics-ca-configmap=Diag CA"},
			wantErr: `--diagnostics-ca-configmap: "Diag CA" is not a ConfigMap name: a lowercase RFC 1123 subdomain`},
		{name: "self-managed TLS without names or webhooks", env: "gs", args: []string{"--tls-self-secret=gs-tls"},
			wantErr: "--tls-self-*: the serving certificate has no DNS name\nno webhook configuration to keep the caBundle of"},
		{name: "a webhook configuration of an unknown kind", args: []string{"--tls-self-webhooks=crd/gs"}, wantErr: `"crd/gs" is not mutating/NAME or validating/NAME`},
		{name: "an auditor period under a second", args: []string{"--auditor", "--auditor-period=10ms"}, wantErr: "--auditor-period: 10ms is shorter than 1s"},
		{name: "a negative restart cool-down", args: []string{"--auditor", "--auditor-restart-cooldown=-1s"}, wantErr: "--auditor-restart-cooldown: -1s is negative"},
		{name: "restarts without the auditor", args: []string{"--auditor-restart"}, wantErr: "--auditor-restart: needs --auditor"},
		{name: "leader election without the auditor or a namespace", env: "", args: []string{"--leader-elect"},
			wantErr: "--leader-elect: only the auditor is elected; it needs --auditor\n--leader-elect: needs --namespace"},
		{name: "an unknown flag", args: []string{"--tls-dir=/x"}, wantErr: "flag provided but not defined: -tls-dir"},
		{name: "a stray argument", args: []string{"serve"}, wantErr: `unexpected arguments: ["serve"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Options
			run := func(_ context.Context, opts *Options) error { got = opts; return nil }
			var stdout, stderr bytes.Buffer
			err := execute(t.Context(), tt.args, tt.env, &stdout, &stderr, run)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("run was called with invalid options")
				}
				return
			}
			if err != nil {
				t.Fatalf("execute: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExecuteVersionAndHelpDoNotRun(t *testing.T) {
	run := func(context.Context, *Options) error { return errors.New("run must not be called") }
	var stdout, stderr bytes.Buffer
	if err := execute(t.Context(), []string{"--version"}, "", &stdout, &stderr, run); err != nil {
		t.Fatalf("--version: %v", err)
	}
	if stdout.String() != version.Version+"\n" {
		t.Errorf("--version printed %q, want %q", stdout.String(), version.Version+"\n")
	}
	stdout.Reset()
	if err := execute(t.Context(), []string{"--help"}, "", &stdout, &stderr, run); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: error %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(stderr.String(), "-cert-dir") {
		t.Errorf("--help did not list the flags:\n%s", stderr.String())
	}
}

func TestWebhookOptionsCarryTheFlags(t *testing.T) {
	o := NewOptions("gs")
	o.ConfigPath, o.CertDir, o.EnableHTTP2 = "/cfg.yaml", "/tls/", true
	want := webhook.Options{
		ConfigPath: "/cfg.yaml", Version: version.Version, Namespace: "gs", Port: 9443, CertDir: "/tls",
		MetricsAddress: ":8080", HealthAddress: ":8081", EnableHTTP2: true, LeaderElectionID: "gopherscope-auditor",
	}
	if diff := cmp.Diff(want, o.webhookOptions()); diff != "" {
		t.Errorf("webhook options (-want +got):\n%s", diff)
	}
	o.Auditor, o.AuditorSettings.RolloutRestart, o.LeaderElection = true, true, true
	want.Auditor = &auditor.Settings{Period: 5 * time.Minute, RolloutRestart: true, RestartCooldown: time.Hour}
	want.LeaderElection = true
	if diff := cmp.Diff(want, o.webhookOptions()); diff != "" {
		t.Errorf("webhook options with the auditor (-want +got):\n%s", diff)
	}
	o.SelfTLS.SecretName = "gs-tls"
	want.SelfTLS = &webhook.SelfTLS{SecretName: "gs-tls", CAValidity: 87600 * time.Hour, Validity: 8760 * time.Hour, RenewBefore: 2160 * time.Hour, CheckInterval: time.Hour}
	if diff := cmp.Diff(want, o.webhookOptions()); diff != "" {
		t.Errorf("webhook options with self-managed TLS (-want +got):\n%s", diff)
	}
	o.DiagnosticsCAConfigMap = "gs-diagnostics-ca"
	want.DiagnosticsCAConfigMap = "gs-diagnostics-ca"
	if diff := cmp.Diff(want, o.webhookOptions()); diff != "" {
		t.Errorf("webhook options with the diagnostics CA ConfigMap (-want +got):\n%s", diff)
	}
}
