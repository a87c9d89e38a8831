package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Validate reports every problem with c at once, each naming its field.
func (c *Config) Validate() error {
	var errs []error
	if c.APIVersion != "" && c.APIVersion != APIVersion {
		errs = append(errs, fmt.Errorf("apiVersion: %q is not supported, want %q", c.APIVersion, APIVersion))
	}
	if c.Kind != "" && c.Kind != Kind {
		errs = append(errs, fmt.Errorf("kind: %q is not supported, want %q", c.Kind, Kind))
	}
	if strings.TrimSpace(c.Sidecar.Image) == "" {
		errs = append(errs, errors.New("sidecar.image: must not be empty"))
	}
	switch c.Sidecar.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		errs = append(errs, fmt.Errorf("sidecar.imagePullPolicy: %q is not one of Always, IfNotPresent, Never", c.Sidecar.ImagePullPolicy))
	}
	if !validPort(c.Sidecar.Port) {
		errs = append(errs, fmt.Errorf("sidecar.port: %d is not a port (1-65535)", c.Sidecar.Port))
	}
	errs = append(errs, c.validateDiagnosticsPort()...)
	for name, q := range c.Sidecar.Resources.Requests {
		if limit, ok := c.Sidecar.Resources.Limits[name]; ok && q.Cmp(limit) > 0 {
			errs = append(errs, fmt.Errorf("sidecar.resources: %s request %s exceeds its limit %s", name, q.String(), limit.String()))
		}
	}
	if c.Sidecar.History.Duration < c.Interval.Duration {
		errs = append(errs, fmt.Errorf("sidecar.history: %s is shorter than the interval %s", c.Sidecar.History.Duration, c.Interval.Duration))
	}
	if len(c.Target.Ports) == 0 {
		errs = append(errs, errors.New("target.ports: at least one port is needed"))
	}
	for i, p := range c.Target.Ports {
		if !validPort(p) {
			errs = append(errs, fmt.Errorf("target.ports[%d]: %d is not a port (1-65535)", i, p))
		}
	}
	if err := ValidatePath(c.Target.ExpvarPath); err != nil {
		errs = append(errs, fmt.Errorf("target.expvarPath: %w", err))
	}
	if err := ValidatePath(c.Target.PprofPath); err != nil {
		errs = append(errs, fmt.Errorf("target.pprofPath: %w", err))
	}
	if c.Target.MetricsPath != "" {
		if err := ValidatePath(c.Target.MetricsPath); err != nil {
			errs = append(errs, fmt.Errorf("target.metricsPath: %w", err))
		}
	}
	if c.Interval.Duration < MinInterval {
		errs = append(errs, fmt.Errorf("interval: %s is shorter than the minimum %s", c.Interval.Duration, MinInterval))
	}
	if c.Interval.Duration > MaxInterval {
		errs = append(errs, fmt.Errorf("interval: %s is longer than the maximum %s", c.Interval.Duration, MaxInterval))
	}
	switch c.NativeSidecar {
	case NativeSidecarAuto, NativeSidecarAlways, NativeSidecarNever:
	default:
		errs = append(errs, fmt.Errorf("nativeSidecar: %q is not one of auto, always, never", c.NativeSidecar))
	}
	for i, ns := range c.ExcludedNamespaces {
		if strings.TrimSpace(ns) == "" {
			errs = append(errs, fmt.Errorf("excludedNamespaces[%d]: must not be empty", i))
		}
	}
	errs = append(errs, c.Tune.validate()...)
	return errors.Join(errs...)
}

// validateDiagnosticsPort checks sidecar.diagnosticsPort: 0 (none) or a
// port that neither the sidecar's metrics port nor the app's debug ports use.
func (c *Config) validateDiagnosticsPort() []error {
	port := c.Sidecar.DiagnosticsPort
	switch {
	case port == 0:
		return nil
	case !validPort(port):
		return []error{fmt.Errorf("sidecar.diagnosticsPort: %d is not a port (1-65535, or 0 for no diagnostics port)", port)}
	case port == c.Sidecar.Port:
		return []error{fmt.Errorf("sidecar.diagnosticsPort: %d is also sidecar.port, the metrics port; choose another port", port)}
	}
	if i := slices.Index(c.Target.Ports, port); i >= 0 {
		return []error{fmt.Errorf("sidecar.diagnosticsPort: %d is also target.ports[%d], the app's debug port; choose another port", port, i)}
	}
	return nil
}

func validPort(p int32) bool { return p >= 1 && p <= 65535 }

// maxPathLen bounds URL paths taken from configuration and annotations.
const maxPathLen = 256

// ValidatePath checks a URL path of the app's debug server: absolute, short,
// printable ASCII, without a query, fragment, whitespace, ".." or "$".
// Annotation values go through it before they reach the sidecar's arguments,
// where the kubelet would expand a $(VAR) reference into something else than
// the value checked here.
func ValidatePath(p string) error {
	switch problem := PathProblem(p); {
	case problem == "":
		return nil
	case p == "" || len(p) > maxPathLen:
		// Say what is wrong without echoing a value that is empty or long.
		return errors.New(problem)
	default:
		return fmt.Errorf("%q %s", p, problem)
	}
}

// PathProblem is ValidatePath without the value in its answer: "" for a
// valid path, else what is wrong with it ("must start with /"). Callers that
// quote the value themselves (the injector's warnings) use it.
func PathProblem(p string) string {
	switch {
	case p == "":
		return "must not be empty"
	case len(p) > maxPathLen:
		return fmt.Sprintf("is longer than %d bytes", maxPathLen)
	case !strings.HasPrefix(p, "/"):
		return "must start with /"
	case strings.ContainsAny(p, "?#"):
		return "must not contain a query or fragment"
	case strings.Contains(p, ".."):
		return "must not contain .."
	case strings.Contains(p, "$"):
		return "must not contain $ (Kubernetes expands $(VAR) in container arguments)"
	}
	for _, r := range p {
		if r <= ' ' || r > '~' {
			return "must be printable ASCII without spaces"
		}
	}
	return ""
}
