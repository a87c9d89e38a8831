package injector

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

// maxTuneLen bounds the gopherscope.io/tune value read.
const maxTuneLen = 128

// parseTunings reads the comma-separated tunings of a gopherscope.io/tune
// value: whether it asks for GOMEMLIMIT, and what is wrong with the rest
// (unknown values are ignored).
func parseTunings(v string) (gomemlimit bool, issue string) {
	if len(v) > maxTuneLen {
		return false, fmt.Sprintf("is longer than %d bytes", maxTuneLen)
	}
	var unknown []string
	for field := range strings.SplitSeq(v, ",") {
		switch field = strings.TrimSpace(field); field {
		case config.TuningGOMEMLIMIT:
			gomemlimit = true
		default:
			if q := quote(field); !slices.Contains(unknown, q) {
				unknown = append(unknown, q)
			}
		}
	}
	if len(unknown) > 0 {
		issue = fmt.Sprintf("names %s, which gopherscope does not know (it knows %s)",
			strings.Join(unknown, ", "), strings.Join(config.Tunings(), ", "))
	}
	return gomemlimit, issue
}

// tuneChecker validates the gopherscope.io/tune annotation into *gomemlimit.
func tuneChecker(gomemlimit *bool) func(string) (string, string) {
	return func(v string) (string, string) {
		want, issue := parseTunings(v)
		*gomemlimit = want
		fallback := "no tuning"
		if want {
			fallback = config.TuningGOMEMLIMIT + " only"
		}
		return issue, fallback
	}
}

// tuneGOMEMLIMIT sets GOMEMLIMIT on pod's app container to the configured
// share of its memory limit when s asks for it, and returns the value set
// ("" for none) and a warning saying what it left alone and why. A pod that
// does not ask gets advice instead where its app container has a memory
// limit, no GOMEMLIMIT and no envFrom (which may set it). prior is the value an earlier injection recorded
// in the status annotation: finding it in the env again is not the user's.
func tuneGOMEMLIMIT(pod *corev1.Pod, s *settings, percent int32, prior string) (value, warning string) {
	i := slices.IndexFunc(pod.Spec.Containers, func(c corev1.Container) bool { return c.Name == s.appContainer })
	if i < 0 {
		return "", ""
	}
	c := &pod.Spec.Containers[i]
	limit, hasLimit := c.Resources.Limits[corev1.ResourceMemory]
	hasLimit = hasLimit && limit.Sign() > 0
	env := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == config.EnvGOMEMLIMIT })
	if !s.tuneGOMEMLIMIT {
		if !hasLimit || env >= 0 || len(c.EnvFrom) > 0 {
			return "", "" // set, or maybe set by envFrom: nothing to advise
		}
		return "", fmt.Sprintf("the app container %q has a memory limit of %s but no %s: set it (to about %d%% of the limit, so the Go runtime collects garbage before the kernel kills the container), or add the annotation %s: %s",
			c.Name, limit.String(), config.EnvGOMEMLIMIT, percent, config.AnnotationTune, config.TuningGOMEMLIMIT)
	}
	switch {
	case env >= 0 && prior != "" && c.Env[env].ValueFrom == nil && c.Env[env].Value == prior:
		return prior, ""
	case env >= 0:
		return "", fmt.Sprintf("%s: the app container %q sets %s itself, which is left as it is", config.AnnotationTune, c.Name, config.EnvGOMEMLIMIT)
	case len(c.EnvFrom) > 0:
		return "", fmt.Sprintf("%s: the app container %q uses envFrom, which may set %s and which an env entry would override, so %s is not set (set it in the container's env or its ConfigMap)",
			config.AnnotationTune, c.Name, config.EnvGOMEMLIMIT, config.EnvGOMEMLIMIT)
	case !hasLimit:
		return "", fmt.Sprintf("%s: the app container %q has no memory limit, so %s is not set", config.AnnotationTune, c.Name, config.EnvGOMEMLIMIT)
	}
	bytes := limit.Value()
	// A share of the limit in whole bytes, without overflowing int64.
	bytes = bytes/100*int64(percent) + bytes%100*int64(percent)/100
	value = strconv.FormatInt(bytes, 10)
	c.Env = append(c.Env, corev1.EnvVar{Name: config.EnvGOMEMLIMIT, Value: value})
	return value, ""
}
