package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/gopherscope/gopherscope/diagnostics"
	"github.com/gopherscope/gopherscope/internal/logging"
)

// options are the command's flags.
type options struct {
	Run          diagnostics.RunOptions
	LogLevel     string
	PrintVersion bool
}

func newOptions() *options {
	return &options{Run: diagnostics.RunOptions{ListenAddress: ":8443"}, LogLevel: "info"}
}

// AddFlags defines the flags (and --kubeconfig, which controller-runtime
// registers on the default flag set, is not needed in a pod).
func (o *options) AddFlags(fs *flag.FlagSet) {
	r := &o.Run
	fs.StringVar(&r.ListenAddress, "listen-address", r.ListenAddress, "address to serve the API on (HTTPS)")
	fs.StringVar(&r.CertFile, "tls-cert-file", "", "serving certificate (PEM), reloaded when it changes")
	fs.StringVar(&r.KeyFile, "tls-private-key-file", "", "serving certificate's key (PEM)")
	fs.StringVar(&r.ClientCertFile, "sidecar-client-cert-file", "", "certificate shown to the sidecars (PEM), issued by the CA their pods trust, reloaded when it changes")
	fs.StringVar(&r.ClientKeyFile, "sidecar-client-key-file", "", "that certificate's key (PEM)")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "log level: debug, info, warn or error")
	fs.BoolVar(&o.PrintVersion, "version", false, "print the version and exit")
}

// Validate reports every problem at once; args are the arguments left
// after the flags.
func (o *options) Validate(args []string) error {
	var errs []error
	if len(args) > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %q", args))
	}
	for _, f := range []struct{ flag, value string }{
		{"listen-address", o.Run.ListenAddress}, {"tls-cert-file", o.Run.CertFile}, {"tls-private-key-file", o.Run.KeyFile},
		{"sidecar-client-cert-file", o.Run.ClientCertFile}, {"sidecar-client-key-file", o.Run.ClientKeyFile},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("--%s is required", f.flag))
		}
	}
	if err := logging.CheckLevel(o.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("--log-level: %w", err))
	}
	return errors.Join(errs...)
}
