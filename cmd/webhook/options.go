package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.uber.org/zap/zapcore"

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
	return errors.Join(errs...)
}

// webhookOptions is what the library needs from the command line.
func (o *Options) webhookOptions() webhook.Options {
	return webhook.Options{
		ConfigPath:     o.ConfigPath,
		Version:        version.Version,
		Namespace:      o.Namespace,
		Port:           o.Port,
		CertDir:        filepath.Clean(o.CertDir),
		MetricsAddress: o.MetricsAddress,
		HealthAddress:  o.HealthAddress,
		EnableHTTP2:    o.EnableHTTP2,
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
