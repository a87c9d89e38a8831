package injector

import (
	"fmt"
	"slices"

	"github.com/gopherscope/gopherscope/config"
)

// sidecarPorts chooses the sidecar's ports: its metrics port and, when the
// config asks for one (sidecar.diagnosticsPort) and has a diagnostics CA
// bundle, its diagnostics port (0 for none). Each is the configured port,
// or the next free one when the pod already uses it (used), with a warning;
// a diagnostics port left out for want of a bundle is a warning too, so
// whoever wonders why the diagnostics API cannot reach the pod finds why in
// its status annotation.
func sidecarPorts(cfg *config.Config, offline bool, used []portUser) (metrics, diagnostics int32, warnings []string) {
	wanted := cfg.Sidecar.DiagnosticsPort
	if wanted > 0 && cfg.DiagnosticsCA == "" {
		warnings = append(warnings, noDiagnosticsWarning(wanted, offline))
		wanted = 0
	}
	metricsUsed := used
	if wanted > 0 {
		// The metrics port, if it moves, does not take the diagnostics port's place.
		metricsUsed = append(slices.Clip(used), portUser{port: wanted, who: "the sidecar's diagnostics port"})
	}
	metrics, warning := choosePort(cfg.Sidecar.Port, metricsUsed)
	if warning != "" {
		warnings = append([]string{warning}, warnings...)
	}
	if wanted == 0 {
		return metrics, 0, warnings
	}
	diagnostics, holder := freePort(wanted, append(slices.Clip(used), portUser{port: metrics, who: "the sidecar's metrics port"}))
	if holder != "" {
		warnings = append(warnings, fmt.Sprintf("port %d is already used by %s; the sidecar's diagnostics port (%s) is %d instead",
			wanted, holder, config.SidecarDiagnosticsPortName, diagnostics))
	}
	return metrics, diagnostics, warnings
}

// noDiagnosticsWarning says that the sidecar gets no diagnostics port
// although the config asks for one, and why: the caller has no bundle.
func noDiagnosticsWarning(port int32, offline bool) string {
	why, fix := "the webhook has no diagnostics CA bundle yet",
		"pods created once the diagnostics server has published its bundle get the port (the webhook's log says what it read)"
	if offline {
		why, fix = "offline injection has no diagnostics CA bundle",
			"let the cluster's webhook inject the pod to get the port"
	}
	return fmt.Sprintf("the sidecar has no diagnostics port (sidecar.diagnosticsPort: %d): %s, so gopherscope top and the diagnostics API cannot reach this pod; %s",
		port, why, fix)
}
