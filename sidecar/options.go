package sidecar

import (
	"errors"
	"fmt"
	"strings"
	"time"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar/diagnostics"
	"github.com/gopherscope/gopherscope/sidecar/findings"
)

// Options configure the sidecar. cmd/sidecar fills them from its flags.
type Options struct {
	// TargetHost is the app's host.
	TargetHost string
	// TargetPorts are the app's candidate debug ports, probed in order.
	TargetPorts []int
	// ExpvarPath, PprofPath and MetricsPath are the app's endpoints; an
	// empty path disables that source.
	ExpvarPath, PprofPath, MetricsPath string
	// Interval is the sampling interval.
	Interval time.Duration
	// History is how far back the history ring reaches.
	History time.Duration
	// ListenAddress is where the sidecar serves.
	ListenAddress string
	// Timeout bounds each request to the app; 0 means half the interval, at most 5s.
	Timeout time.Duration
	// MaxBodyBytes caps each response body; 0 means source.DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// BackoffMax bounds the wait between attempts on a failing source; 0
	// means eight intervals, at most a minute (and at least one interval).
	BackoffMax time.Duration
	// PodName and PodNamespace name the pod in the history API, if known.
	PodName, PodNamespace string
	// UserAgent is sent with every request to the app.
	UserAgent string
	// Findings are the detectors' thresholds; the zero value means
	// findings.DefaultOptions.
	Findings findings.Options
	// Limits are what the sidecar knows of the app container's limits.
	Limits findings.Limits
	// Diagnostics configure the mutual-TLS port that serves the app's
	// profiles to the diagnostics server; disabled when its address is "".
	// Its problems (a bad CA bundle, a port taken) are logged, never fatal:
	// the metrics matter more than the profiles.
	Diagnostics diagnostics.Options
}

// DefaultOptions returns the options the sidecar uses when given no flags.
func DefaultOptions() Options {
	return Options{
		TargetHost:    sidecarconf.DefaultTargetHost,
		TargetPorts:   []int{int(sidecarconf.DefaultTargetPort)},
		ExpvarPath:    sidecarconf.DefaultExpvarPath,
		PprofPath:     sidecarconf.DefaultPprofPath,
		Interval:      sidecarconf.DefaultInterval,
		History:       sidecarconf.DefaultHistory,
		ListenAddress: fmt.Sprintf(":%d", sidecarconf.DefaultSidecarPort),
		Findings:      findings.DefaultOptions(),
	}
}

// Validate reports every problem with o at once.
func (o *Options) Validate() error {
	var errs []error
	if strings.TrimSpace(o.TargetHost) == "" {
		errs = append(errs, fmt.Errorf("--%s: must not be empty", sidecarconf.FlagTargetHost))
	}
	if len(o.TargetPorts) == 0 {
		errs = append(errs, fmt.Errorf("--%s: at least one port is needed", sidecarconf.FlagTargetPorts))
	}
	for _, p := range o.TargetPorts {
		if p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("--%s: %d is not a port (1-65535)", sidecarconf.FlagTargetPorts, p))
		}
	}
	for _, p := range [...]struct{ flag, path string }{
		{sidecarconf.FlagExpvarPath, o.ExpvarPath}, {sidecarconf.FlagPprofPath, o.PprofPath}, {sidecarconf.FlagMetricsPath, o.MetricsPath},
	} {
		if err := validatePath(p.path); err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", p.flag, err))
		}
	}
	if o.ExpvarPath == "" && o.PprofPath == "" && o.MetricsPath == "" {
		errs = append(errs, errors.New("every source is disabled: set at least one of the expvar, pprof and metrics paths"))
	}
	if o.Interval < sidecarconf.MinInterval {
		errs = append(errs, fmt.Errorf("--%s: %s is shorter than the minimum %s", sidecarconf.FlagInterval, o.Interval, sidecarconf.MinInterval))
	}
	if o.History < o.Interval {
		errs = append(errs, fmt.Errorf("--%s: %s is shorter than the interval %s", sidecarconf.FlagHistory, o.History, o.Interval))
	}
	if strings.TrimSpace(o.ListenAddress) == "" {
		errs = append(errs, fmt.Errorf("--%s: must not be empty", sidecarconf.FlagListenAddress))
	}
	if o.Timeout < 0 || o.MaxBodyBytes < 0 || o.BackoffMax < 0 {
		errs = append(errs, errors.New("timeout, body cap and backoff must not be negative"))
	}
	if err := o.findingsOptions().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("findings: %w", err))
	}
	if o.Limits.MemoryBytes < 0 || o.Limits.CPU < 0 || o.Limits.NumCPU < 0 {
		errs = append(errs, errors.New("the app's memory and CPU limits must not be negative"))
	}
	return errors.Join(errs...)
}

// findingsOptions are the detectors' thresholds, the defaults for the zero value.
func (o *Options) findingsOptions() findings.Options {
	if o.Findings == (findings.Options{}) {
		return findings.DefaultOptions()
	}
	return o.Findings
}

// validatePath accepts "" (source disabled) or an absolute URL path without
// a query, fragment, white space or control characters.
func validatePath(p string) error {
	if p == "" {
		return nil
	}
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%q must start with /", p)
	}
	for _, r := range p {
		if r <= ' ' || r > '~' || r == '?' || r == '#' {
			return fmt.Errorf("%q must be printable ASCII without spaces, query or fragment", p)
		}
	}
	return nil
}

func (o *Options) requestTimeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return min(o.Interval/2, 5*time.Second)
}

func (o *Options) backoffMax() time.Duration {
	if o.BackoffMax > 0 {
		return max(o.BackoffMax, o.Interval)
	}
	return max(min(8*o.Interval, time.Minute), o.Interval)
}
