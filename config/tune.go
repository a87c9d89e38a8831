package config

import (
	"fmt"
	"slices"
	"strings"
)

// Tune is the tuning the injector applies to the app container at
// admission, with no change to the app. Pods ask for it with the
// AnnotationTune annotation; the config turns it on for whole namespaces.
type Tune struct {
	// GOMEMLIMIT sets the app container's GOMEMLIMIT to a share of its
	// memory limit.
	GOMEMLIMIT GOMEMLIMITTuning `json:"gomemlimit"`
}

// GOMEMLIMITTuning configures TuningGOMEMLIMIT. The injector sets
// GOMEMLIMIT only on a container that has a memory limit, does not set
// GOMEMLIMIT itself and has no envFrom (whose ConfigMap or Secret may set
// it, and which an env entry would override). Env is read once at the
// container's start: an in-place resize of the limit does not update it.
type GOMEMLIMITTuning struct {
	// Namespaces whose injected pods are tuned as if each had the annotation
	// gopherscope.io/tune: gomemlimit; TuneAllNamespaces stands for every one.
	Namespaces []string `json:"namespaces,omitempty"`
	// Percent is GOMEMLIMIT's share of the memory limit (1 to 100).
	Percent int32 `json:"percent"`
}

// Values and defaults of the tuning.
const (
	// TuningGOMEMLIMIT is the AnnotationTune value that sets GOMEMLIMIT.
	TuningGOMEMLIMIT = "gomemlimit"
	// TuneAllNamespaces in GOMEMLIMITTuning.Namespaces stands for every namespace.
	TuneAllNamespaces = "*"
	// DefaultGOMEMLIMITPercent is GOMEMLIMIT's default share of the memory limit.
	DefaultGOMEMLIMITPercent int32 = 90
	// EnvGOMEMLIMIT is the Go runtime's soft memory limit variable.
	EnvGOMEMLIMIT = "GOMEMLIMIT"
)

// Tunings returns the values AnnotationTune accepts, sorted.
func Tunings() []string { return []string{TuningGOMEMLIMIT} }

// In reports whether every injected pod of the namespace gets GOMEMLIMIT.
func (t *GOMEMLIMITTuning) In(namespace string) bool {
	return slices.Contains(t.Namespaces, TuneAllNamespaces) || (namespace != "" && slices.Contains(t.Namespaces, namespace))
}

// validate reports the problems of the tuning configuration.
func (t *Tune) validate() []error {
	var errs []error
	if p := t.GOMEMLIMIT.Percent; p < 1 || p > 100 {
		errs = append(errs, fmt.Errorf("tune.gomemlimit.percent: %d is not between 1 and 100", p))
	}
	for i, ns := range t.GOMEMLIMIT.Namespaces {
		if strings.TrimSpace(ns) == "" {
			errs = append(errs, fmt.Errorf("tune.gomemlimit.namespaces[%d]: must not be empty", i))
		}
	}
	return errs
}
