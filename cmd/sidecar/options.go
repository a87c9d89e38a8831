package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/internal/logging"
	"github.com/gopherscope/gopherscope/sidecar"
	"github.com/gopherscope/gopherscope/sidecar/findings"
)

// The downward-API variables the injector sets on the sidecar (the same
// names as config.EnvPodName and config.EnvPodNamespace, which this binary
// does not import to stay free of k8s.io/api).
const (
	envPodName      = "POD_NAME"
	envPodNamespace = "POD_NAMESPACE"
)

// options are the sidecar's command-line options.
type options struct {
	Sidecar      sidecar.Options
	LogLevel     string
	PrintVersion bool
}

func newOptions() *options {
	return &options{Sidecar: sidecar.DefaultOptions(), LogLevel: "info"}
}

// AddFlags defines the flags, named as config/names declares them (the
// injector writes exactly these).
func (o *options) AddFlags(fs *flag.FlagSet) {
	s := &o.Sidecar
	fs.StringVar(&s.TargetHost, sidecarconf.FlagTargetHost, s.TargetHost, "host of the app's debug server")
	fs.Var((*portList)(&s.TargetPorts), sidecarconf.FlagTargetPorts, "comma-separated debug ports of the app, probed in order")
	fs.StringVar(&s.ExpvarPath, sidecarconf.FlagExpvarPath, s.ExpvarPath, "path of the app's expvar handler (empty: do not read expvar)")
	fs.StringVar(&s.PprofPath, sidecarconf.FlagPprofPath, s.PprofPath, "path prefix of the app's net/http/pprof handlers (empty: do not read pprof)")
	fs.StringVar(&s.MetricsPath, sidecarconf.FlagMetricsPath, s.MetricsPath, "path of the app's own Prometheus endpoint (empty: none)")
	fs.DurationVar(&s.Interval, sidecarconf.FlagInterval, s.Interval, "sampling interval (at least 1s)")
	fs.StringVar(&s.ListenAddress, sidecarconf.FlagListenAddress, s.ListenAddress, "address to serve /metrics, the page and the history API on")
	fs.DurationVar(&s.History, sidecarconf.FlagHistory, s.History, "how much history the page keeps")
	fs.Var((*thresholds)(&s.Findings), sidecarconf.FlagFindings, "the findings' thresholds as comma-separated key=value pairs over the defaults (keys: "+strings.Join(findings.ThresholdKeys(), ", ")+")")
	fs.StringVar(&s.Diagnostics.ListenAddress, sidecarconf.FlagDiagnosticsListenAddress, s.Diagnostics.ListenAddress,
		"address to serve the app's profiles to gopherscope's diagnostics server on, over mutual TLS with the CA bundle in $"+sidecarconf.EnvDiagnosticsCA+" (empty: not served)")
	fs.DurationVar(&s.Timeout, "timeout", s.Timeout, "timeout of each request to the app (0: half the interval, at most 5s)")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "log level: debug, info, warn or error")
	fs.BoolVar(&o.PrintVersion, "version", false, "print the version and exit")
}

// Validate reports every problem with the options at once.
func (o *options) Validate() error {
	var errs []error
	if err := logging.CheckLevel(o.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("--log-level: %w", err))
	}
	if err := o.Sidecar.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// thresholds is a flag.Value for the findings' thresholds.
type thresholds findings.Options

func (t *thresholds) String() string {
	if t == nil {
		return ""
	}
	return findings.Options(*t).String()
}

func (t *thresholds) Set(v string) error {
	opts, err := findings.ParseOptions(v)
	if err != nil {
		return err
	}
	*t = thresholds(opts)
	return nil
}

// portList is a flag.Value for a comma-separated list of ports.
type portList []int

func (p *portList) String() string {
	if p == nil {
		return ""
	}
	parts := make([]string, len(*p))
	for i, port := range *p {
		parts[i] = strconv.Itoa(port)
	}
	return strings.Join(parts, ",")
}

func (p *portList) Set(v string) error {
	var ports []int
	for part := range strings.SplitSeq(v, ",") {
		port, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("%q is not a port (1-65535)", part)
		}
		ports = append(ports, port)
	}
	*p = ports
	return nil
}
