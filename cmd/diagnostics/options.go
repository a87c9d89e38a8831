package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/gopherscope/gopherscope/diagnostics"
	"github.com/gopherscope/gopherscope/diagnostics/selftls"
	"github.com/gopherscope/gopherscope/internal/logging"
)

// options are the command's flags.
type options struct {
	Run          diagnostics.RunOptions
	Self         selftls.Options
	DNSNames     string
	LogLevel     string
	PrintVersion bool
}

// newOptions returns the defaults; namespace is the pod's ($POD_NAMESPACE).
func newOptions(namespace string) *options {
	return &options{
		Run: diagnostics.RunOptions{ListenAddress: ":8443"},
		Self: selftls.Options{
			Namespace:    namespace,
			RootValidity: 10 * 365 * 24 * time.Hour, RootOverlap: 365 * 24 * time.Hour, CertValidity: 24 * time.Hour,
		},
		LogLevel: "info",
	}
}

// AddFlags defines the flags (a pod needs no --kubeconfig; elsewhere,
// $KUBECONFIG says where the API server is).
func (o *options) AddFlags(fs *flag.FlagSet) {
	r, s := &o.Run, &o.Self
	fs.StringVar(&r.ListenAddress, "listen-address", r.ListenAddress, "address to serve the API on (HTTPS)")

	fs.StringVar(&s.SecretName, "ca-secret", "", "self-managed TLS: the Secret (in --namespace, created empty) that keeps the diagnostics CA's roots")
	fs.StringVar(&s.ConfigMapName, "ca-bundle-configmap", "", "self-managed TLS: the ConfigMap (in --namespace, created empty) the roots' public bundle is published in, for the webhook to inject")
	fs.StringVar(&s.APIService, "apiservice", "", "self-managed TLS: the APIService whose caBundle is kept equal to that bundle")
	fs.StringVar(&o.DNSNames, "tls-dns-names", "", "self-managed TLS: the serving certificate's DNS names, comma-separated (the Service's <name>.<namespace>.svc first)")
	fs.StringVar(&s.Namespace, "namespace", s.Namespace, "self-managed TLS: the namespace of --ca-secret and --ca-bundle-configmap (default $POD_NAMESPACE)")
	fs.DurationVar(&s.RootValidity, "root-validity", s.RootValidity, "self-managed TLS: a root's lifetime")
	fs.DurationVar(&s.RootOverlap, "root-overlap", s.RootOverlap, "self-managed TLS: how long before a root expires its successor is published (it signs from half of that)")
	fs.DurationVar(&s.CertValidity, "cert-validity", s.CertValidity, "self-managed TLS: lifetime of the serving and client certificates, renewed in memory at two thirds of it")

	fs.StringVar(&r.CertFile, "tls-cert-file", "", "certificates from files (instead of --ca-secret): serving certificate (PEM), reloaded when it changes")
	fs.StringVar(&r.KeyFile, "tls-private-key-file", "", "serving certificate's key (PEM)")
	fs.StringVar(&r.ClientCertFile, "sidecar-client-cert-file", "", "certificate shown to the sidecars (PEM), issued by the CA their pods trust, reloaded when it changes")
	fs.StringVar(&r.ClientKeyFile, "sidecar-client-key-file", "", "that certificate's key (PEM)")

	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "log level: debug, info, warn or error")
	fs.BoolVar(&o.PrintVersion, "version", false, "print the version and exit")
}

// Validate reports every problem at once and completes Run; args are the
// arguments left after the flags.
func (o *options) Validate(args []string) error {
	var errs []error
	if len(args) > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments: %q", args))
	}
	if o.Run.ListenAddress == "" {
		errs = append(errs, errors.New("--listen-address is required"))
	}
	files := []struct{ flag, value string }{
		{"tls-cert-file", o.Run.CertFile}, {"tls-private-key-file", o.Run.KeyFile},
		{"sidecar-client-cert-file", o.Run.ClientCertFile}, {"sidecar-client-key-file", o.Run.ClientKeyFile},
	}
	if o.Self.SecretName != "" {
		for _, f := range files {
			if f.value != "" {
				errs = append(errs, fmt.Errorf("--%s and --ca-secret exclude each other: certificates come from files or are self-managed", f.flag))
			}
		}
		self := o.Self
		for name := range strings.SplitSeq(o.DNSNames, ",") {
			if name = strings.TrimSpace(name); name != "" {
				self.DNSNames = append(self.DNSNames, name)
			}
		}
		if err := self.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("self-managed TLS: %w", err))
		}
		o.Run.SelfTLS = &self
	} else {
		for _, f := range files {
			if f.value == "" {
				errs = append(errs, fmt.Errorf("--%s is required (or --ca-secret for self-managed TLS)", f.flag))
			}
		}
	}
	if err := logging.CheckLevel(o.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("--log-level: %w", err))
	}
	return errors.Join(errs...)
}
