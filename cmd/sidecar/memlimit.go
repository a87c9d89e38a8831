package main

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
)

// envGOMEMLIMIT is the Go runtime's own variable; when set, it wins.
const envGOMEMLIMIT = "GOMEMLIMIT"

// memoryLimitPercent is the share of the container's memory limit the
// sidecar's Go runtime keeps its memory under by collecting more often; the
// rest is for what the Go limit does not count (the binary's pages, the
// kernel's buffers).
const memoryLimitPercent = 80

// setMemoryLimit sets the Go soft memory limit to memoryLimitPercent of the
// container's limit, which the injector passes in sidecarconf.EnvMemoryLimit,
// unless GOMEMLIMIT is set. It returns the limit set, or 0 when it set none.
func setMemoryLimit(getenv func(string) string) (int64, error) {
	if getenv(envGOMEMLIMIT) != "" {
		return 0, nil
	}
	v := strings.TrimSpace(getenv(sidecarconf.EnvMemoryLimit))
	if v == "" {
		return 0, nil
	}
	containerLimit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || containerLimit <= 0 {
		return 0, fmt.Errorf("%s=%q is not a number of bytes", sidecarconf.EnvMemoryLimit, v)
	}
	if containerLimit > math.MaxInt64/memoryLimitPercent {
		return 0, nil // beyond any machine: no limit to keep under
	}
	limit := containerLimit * memoryLimitPercent / 100
	debug.SetMemoryLimit(limit)
	return limit, nil
}
