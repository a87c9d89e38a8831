package sidecar

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar/findings"
)

// LimitsFromEnv reads what the injector passes of the app container through
// the sidecar's environment (config/names' EnvApp* variables); an unset
// variable is an unknown limit. NumCPU is the sidecar's own CPU count: it
// runs on the app's node. A malformed variable is named in the error and
// left unknown; the others are still returned.
func LimitsFromEnv(getenv func(string) string) (findings.Limits, error) {
	limits := findings.Limits{NumCPU: runtime.NumCPU(), GOMEMLIMITEnv: getenv(sidecarconf.EnvAppGOMEMLIMIT)}
	var errs []error
	if v := strings.TrimSpace(getenv(sidecarconf.EnvAppMemoryLimit)); v != "" {
		bytes, err := strconv.ParseInt(v, 10, 64)
		if err != nil || bytes <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a positive number of bytes", sidecarconf.EnvAppMemoryLimit, v))
		} else {
			limits.MemoryBytes = float64(bytes)
		}
	}
	if v := strings.TrimSpace(getenv(sidecarconf.EnvAppCPULimitMillis)); v != "" {
		millis, err := strconv.ParseInt(v, 10, 64)
		if err != nil || millis <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a positive number of millicores", sidecarconf.EnvAppCPULimitMillis, v))
		} else {
			limits.CPU = float64(millis) / 1000
		}
	}
	return limits, errors.Join(errs...)
}
