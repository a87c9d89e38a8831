package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gopherscope/gopherscope/auditor"
	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/version"
	"github.com/gopherscope/gopherscope/webhook"
)

// Options are the command line of the webhook binary. The injection config
// file (--config) holds what to inject; these flags say how to serve. No flag
// overlaps a config-file field; the one that touches the config, --namespace,
// adds to its excludedNamespaces.
type Options struct {
	// ConfigPath is the injection config file; "" uses the built-in defaults.
	ConfigPath string
	// CertDir holds tls.crt and tls.key.
	CertDir string
	// Port is the HTTPS port of the webhook server.
	Port int
	// MetricsAddress serves /metrics.
	MetricsAddress string
	// HealthAddress serves /healthz and /readyz.
	HealthAddress string
	// Namespace is the webhook's own namespace, never injected.
	Namespace string
	// EnableHTTP2 allows HTTP/2 on the webhook server.
	EnableHTTP2 bool
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// ShowVersion prints the version and exits.
	ShowVersion bool
	// Auditor runs the auditor: pods that should carry the sidecar and do not.
	Auditor bool
	// AuditorSettings are the auditor's period and restart settings.
	AuditorSettings auditor.Settings
	// LeaderElection elects one replica to run the auditor.
	LeaderElection bool
	// LeaderElectionID names the Lease of the election.
	LeaderElectionID string
	// SelfTLS manages the certificate in a Secret (tls.mode=self) when its
	// SecretName is set.
	SelfTLS webhook.SelfTLS
	// DiagnosticsCAConfigMap names the ConfigMap of Namespace whose ca.crt
	// is the diagnostics CA bundle written into injected pods; "" reads none.
	DiagnosticsCAConfigMap string
}

// NewOptions returns the defaults; podNamespace is the value of the
// POD_NAMESPACE environment variable (set by the chart from the downward API).
func NewOptions(podNamespace string) *Options {
	return &Options{
		CertDir:        "/etc/gopherscope/tls",
		Port:           9443,
		MetricsAddress: ":8080",
		HealthAddress:  ":8081",
		Namespace:      podNamespace,
		LogLevel:       "info",
		// The binary only does what it is told; the chart turns the
		// auditor on by default.
		AuditorSettings:  auditor.DefaultSettings(),
		LeaderElectionID: webhook.DefaultLeaderElectionID,
		SelfTLS: webhook.SelfTLS{
			CAValidity: 10 * 365 * 24 * time.Hour, Validity: 365 * 24 * time.Hour,
			RenewBefore: 90 * 24 * time.Hour, CheckInterval: time.Hour,
		},
	}
}

// AddFlags declares the flags on fs, bound to o.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.ConfigPath, "config", o.ConfigPath, "injection config file (YAML, hot-reloaded); empty: built-in defaults")
	fs.StringVar(&o.CertDir, "cert-dir", o.CertDir, "directory with the serving certificate tls.crt and key tls.key (re-read when they change)")
	fs.IntVar(&o.Port, "port", o.Port, "HTTPS port of the webhook server (path "+webhook.Path+")")
	fs.StringVar(&o.MetricsAddress, "metrics-address", o.MetricsAddress, "address of the Prometheus /metrics endpoint (0 disables it)")
	fs.StringVar(&o.HealthAddress, "health-address", o.HealthAddress, "address of /healthz and /readyz (0 disables them)")
	fs.StringVar(&o.Namespace, "namespace", o.Namespace, "the webhook's own namespace, never injected (default: $POD_NAMESPACE)")
	fs.BoolVar(&o.EnableHTTP2, "enable-http2", o.EnableHTTP2, "allow HTTP/2 on the webhook server (off: HTTP/2 rapid-reset attacks)")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "log level: debug, info, warn or error")
	fs.BoolVar(&o.ShowVersion, "version", o.ShowVersion, "print the version and exit")
	fs.BoolVar(&o.Auditor, "auditor", o.Auditor, "report pods that should carry the sidecar and do not (needs pods get/list/watch and events create/patch)")
	fs.DurationVar(&o.AuditorSettings.Period, "auditor-period", o.AuditorSettings.Period, "how often the auditor checks an uninjected pod again; at most one Event per owner per period")
	fs.BoolVar(&o.AuditorSettings.RolloutRestart, "auditor-restart", o.AuditorSettings.RolloutRestart,
		"let the auditor evict an uninjected pod of a Deployment, ReplicaSet, StatefulSet or DaemonSet, one per workload per cool-down, while the webhook is ready and reachable (needs create on pods/eviction, granted per namespace by a RoleBinding)")
	fs.DurationVar(&o.AuditorSettings.RestartCooldown, "auditor-restart-cooldown", o.AuditorSettings.RestartCooldown, "the shortest time between two evictions of one workload's pods")
	fs.BoolVar(&o.LeaderElection, "leader-elect", o.LeaderElection, "elect one replica to run the auditor, with a Lease in --namespace (the webhook runs on every replica)")
	fs.StringVar(&o.LeaderElectionID, "leader-election-id", o.LeaderElectionID, "name of the leader election Lease")
	fs.StringVar(&o.SelfTLS.SecretName, "tls-self-secret", o.SelfTLS.SecretName,
		"manage the serving certificate and its CA in this Secret of --namespace (mounted as --cert-dir) and keep the webhook configurations' caBundle in sync; empty: the files in --cert-dir come from elsewhere")
	fs.Func("tls-self-dns-names", "comma-separated DNS names of the self-managed certificate; the first is its common name", func(v string) error {
		o.SelfTLS.DNSNames = strings.Split(v, ",")
		return nil
	})
	fs.Func("tls-self-webhooks", "comma-separated webhook configurations whose caBundle is kept: mutating/NAME or validating/NAME", func(v string) error {
		o.SelfTLS.Webhooks = nil
		for _, ref := range strings.Split(v, ",") {
			w, err := webhook.ParseConfigurationRef(ref)
			if err != nil {
				return err
			}
			o.SelfTLS.Webhooks = append(o.SelfTLS.Webhooks, w)
		}
		return nil
	})
	fs.DurationVar(&o.SelfTLS.CAValidity, "tls-self-ca-validity", o.SelfTLS.CAValidity, "lifetime of the self-managed CA")
	fs.DurationVar(&o.SelfTLS.Validity, "tls-self-validity", o.SelfTLS.Validity, "lifetime of the self-managed serving certificate")
	fs.DurationVar(&o.SelfTLS.RenewBefore, "tls-self-renew-before", o.SelfTLS.RenewBefore, "how long before its expiry a self-managed certificate (the CA too) is replaced")
	fs.StringVar(&o.DiagnosticsCAConfigMap, "diagnostics-ca-configmap", o.DiagnosticsCAConfigMap,
		"ConfigMap of --namespace whose "+config.DiagnosticsCAKey+" is the diagnostics CA bundle, read (get) at start and every "+
			webhook.DefaultDiagnosticsCAInterval.String()+"; with it and sidecar.diagnosticsPort in the config, injected sidecars serve the diagnostics port; empty: none")
	fs.DurationVar(&o.SelfTLS.CheckInterval, "tls-self-check-interval", o.SelfTLS.CheckInterval, "how often the self-managed certificates' expiry is checked")
}

// Validate reports every problem with the options at once.
func (o *Options) Validate() error {
	var errs []error
	if o.Port < 1 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("--port: %d is not a port (1-65535)", o.Port))
	}
	if strings.TrimSpace(o.CertDir) == "" {
		errs = append(errs, errors.New("--cert-dir: must not be empty"))
	}
	for _, a := range []struct{ flag, value string }{{"--metrics-address", o.MetricsAddress}, {"--health-address", o.HealthAddress}} {
		if strings.TrimSpace(a.value) == "" {
			errs = append(errs, fmt.Errorf("%s: must not be empty (0 disables it)", a.flag))
		}
	}
	if _, err := zapcore.ParseLevel(o.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", o.LogLevel))
	}
	errs = append(errs, o.validateAuditor()...)
	if o.DiagnosticsCAConfigMap != "" {
		if msgs := validation.IsDNS1123Subdomain(o.DiagnosticsCAConfigMap); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--diagnostics-ca-configmap: %q is not a ConfigMap name: %s", o.DiagnosticsCAConfigMap, strings.Join(msgs, "; ")))
		}
		if strings.TrimSpace(o.Namespace) == "" {
			errs = append(errs, errors.New("--diagnostics-ca-configmap: needs --namespace (or $POD_NAMESPACE), where the ConfigMap is"))
		}
	}
	if o.SelfTLS.SecretName != "" {
		if err := o.SelfTLS.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("--tls-self-*: %w", err))
		}
		if strings.TrimSpace(o.Namespace) == "" {
			errs = append(errs, errors.New("--tls-self-secret: needs --namespace (or $POD_NAMESPACE) for its Secret"))
		}
	}
	return errors.Join(errs...)
}

// validateAuditor checks the auditor and leader election flags.
func (o *Options) validateAuditor() []error {
	var errs []error
	s := o.AuditorSettings
	if s.Period < auditor.MinPeriod {
		errs = append(errs, fmt.Errorf("--auditor-period: %s is shorter than %s", s.Period, auditor.MinPeriod))
	}
	if s.RestartCooldown < 0 {
		errs = append(errs, fmt.Errorf("--auditor-restart-cooldown: %s is negative", s.RestartCooldown))
	}
	if s.RolloutRestart && !o.Auditor {
		errs = append(errs, errors.New("--auditor-restart: needs --auditor"))
	}
	if o.LeaderElection {
		if !o.Auditor {
			errs = append(errs, errors.New("--leader-elect: only the auditor is elected; it needs --auditor"))
		}
		if strings.TrimSpace(o.Namespace) == "" {
			errs = append(errs, errors.New("--leader-elect: needs --namespace (or $POD_NAMESPACE) for its Lease"))
		}
		if strings.TrimSpace(o.LeaderElectionID) == "" {
			errs = append(errs, errors.New("--leader-election-id: must not be empty"))
		}
	}
	return errs
}

// webhookOptions is what the library needs from the command line.
func (o *Options) webhookOptions() webhook.Options {
	var auditorSettings *auditor.Settings
	if o.Auditor {
		s := o.AuditorSettings
		auditorSettings = &s
	}
	var selfTLS *webhook.SelfTLS
	if o.SelfTLS.SecretName != "" {
		s := o.SelfTLS
		selfTLS = &s
	}
	return webhook.Options{
		ConfigPath:       o.ConfigPath,
		Version:          version.Version,
		Namespace:        o.Namespace,
		Port:             o.Port,
		CertDir:          filepath.Clean(o.CertDir),
		MetricsAddress:   o.MetricsAddress,
		HealthAddress:    o.HealthAddress,
		EnableHTTP2:      o.EnableHTTP2,
		Auditor:          auditorSettings,
		LeaderElection:   o.LeaderElection,
		LeaderElectionID: o.LeaderElectionID,
		SelfTLS:          selfTLS,

		DiagnosticsCAConfigMap: o.DiagnosticsCAConfigMap,
	}
}

// runFunc runs the server with parsed, valid options.
type runFunc func(ctx context.Context, opts *Options) error

// execute parses args, then prints the version or calls run: the command's
// whole behaviour, without a server, so tests pass their own run.
func execute(ctx context.Context, args []string, podNamespace string, stdout, stderr io.Writer, run runFunc) error {
	opts := NewOptions(podNamespace)
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if opts.ShowVersion {
		_, err := fmt.Fprintln(stdout, version.Version)
		return err
	}
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("invalid options:\n%w", err)
	}
	return run(ctx, opts)
}
