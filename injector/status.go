package injector

import (
	"encoding/json"
	"fmt"

	"github.com/gopherscope/gopherscope/config"
)

// Status is the content of the gopherscope.io/status annotation written on
// every injected pod: what was injected, by which version, what it observes
// and the warnings its creator was given. It is compact JSON with a fixed
// field order.
type Status struct {
	// Version of the injector (config.Config.InjectorVersion; "unknown" if unset).
	Version string `json:"version"`
	// Sidecar is the name of the injected container.
	Sidecar string `json:"sidecar"`
	// Native is true for a native sidecar (an init container with restartPolicy Always).
	Native bool `json:"native"`
	// NativeBasis says on what nativeSidecar: auto chose (e.g. "apiserver
	// 1.32", "oldest kubelet 1.28"); empty when the config was not resolved.
	NativeBasis string `json:"nativeBasis,omitempty"`
	// Port is the sidecar's metrics port.
	Port int32 `json:"port"`
	// DiagnosticsPort is the sidecar's diagnostics port (mutual TLS, named
	// config.SidecarDiagnosticsPortName); 0 when it has none.
	DiagnosticsPort int32 `json:"diagnosticsPort,omitempty"`
	// Target is what the sidecar observes.
	Target StatusTarget `json:"target"`
	// Tuned are the environment variables the injector set on the app
	// container (gopherscope.io/tune), by name.
	Tuned map[string]string `json:"tuned,omitempty"`
	// Warnings are the injection's warnings, as the admission response gave
	// them, kept on the pod for whoever never saw that response.
	Warnings []string `json:"warnings,omitempty"`
}

// StatusTarget is the app the sidecar observes.
type StatusTarget struct {
	// Container is the app container's name.
	Container string `json:"container"`
	// Ports are the app's debug ports, probed in order.
	Ports []int32 `json:"ports"`
	// ExpvarPath is the app's expvar path.
	ExpvarPath string `json:"expvarPath"`
	// PprofPath is the app's pprof prefix.
	PprofPath string `json:"pprofPath"`
	// MetricsPath is the app's own Prometheus path, if any.
	MetricsPath string `json:"metricsPath,omitempty"`
}

// ParseStatus decodes a gopherscope.io/status annotation value.
func ParseStatus(value string) (Status, error) {
	var st Status
	if err := json.Unmarshal([]byte(value), &st); err != nil {
		return Status{}, fmt.Errorf("decode %s annotation: %w", config.AnnotationStatus, err)
	}
	return st, nil
}

// encode renders the status as the annotation's value.
func (st *Status) encode() string {
	// Marshalling a struct of strings, integers and a slice cannot fail
	// (invalid UTF-8 is replaced, not refused), so the error is always nil.
	b, _ := json.Marshal(st)
	return string(b)
}
