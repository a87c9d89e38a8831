package names

import "time"

// Command-line flags of the sidecar binary, as written by the injector into
// the sidecar container's args (`--name=value`). cmd/sidecar defines exactly
// these flags.
const (
	// FlagTargetHost is the host of the app's debug server (default 127.0.0.1:
	// the sidecar shares the pod's network namespace).
	FlagTargetHost = "target-host"
	// FlagTargetPorts is the comma-separated list of the app's debug ports, probed in order.
	FlagTargetPorts = "target-ports"
	// FlagExpvarPath is the app's expvar path.
	FlagExpvarPath = "expvar-path"
	// FlagPprofPath is the app's pprof path prefix.
	FlagPprofPath = "pprof-path"
	// FlagMetricsPath is the app's own Prometheus path ("" = none).
	FlagMetricsPath = "metrics-path"
	// FlagInterval is the sampling interval.
	FlagInterval = "interval"
	// FlagListenAddress is where the sidecar serves /metrics, the page and its API.
	FlagListenAddress = "listen-address"
	// FlagHistory is how much history the ring buffer keeps (a duration).
	FlagHistory = "history"
	// FlagDiagnosticsListenAddress is where the sidecar serves the app's
	// profiles to the diagnostics server over mutual TLS ("" = not served).
	FlagDiagnosticsListenAddress = "diagnostics-listen-address"
	// FlagFindings overrides the findings' thresholds: comma-separated
	// key=value pairs that findings.ParseOptions reads.
	FlagFindings = "findings"
)

// Paths served by the sidecar.
const (
	// SidecarMetricsPath is the normalized Prometheus exposition.
	SidecarMetricsPath = "/metrics"
	// SidecarHealthzPath answers 200 while the sidecar process serves.
	SidecarHealthzPath = "/healthz"
	// SidecarReadyzPath answers 200 once the target has answered.
	SidecarReadyzPath = "/readyz"
	// SidecarHistoryPath serves the history ring buffer as JSON.
	SidecarHistoryPath = "/api/v1/history"
)

// Defaults and bounds shared by the injector's configuration and the sidecar's flags.
const (
	// DefaultTargetHost is where the sidecar finds the app: the pod's own
	// network namespace.
	DefaultTargetHost = "127.0.0.1"
	// DefaultSidecarPort is the preferred metrics port of the sidecar.
	DefaultSidecarPort int32 = 9184
	// DefaultTargetPort is the app's default debug port.
	DefaultTargetPort int32 = 6060
	// DefaultExpvarPath is expvar's own path.
	DefaultExpvarPath = "/debug/vars"
	// DefaultPprofPath is net/http/pprof's own prefix.
	DefaultPprofPath = "/debug/pprof"
	// DefaultInterval is the default sampling interval.
	DefaultInterval = 10 * time.Second
	// MinInterval is the shortest sampling interval accepted.
	MinInterval = time.Second
	// DefaultHistory is how far back the sidecar's history reaches by default.
	DefaultHistory = time.Hour
)

// Environment of the sidecar container.
const (
	// EnvMemoryLimit is the sidecar container's memory limit in bytes, set by
	// the injector from the downward API (resourceFieldRef limits.memory).
	// The sidecar sets its Go soft memory limit to a share of it, so it
	// collects garbage before the kernel kills it.
	EnvMemoryLimit = "GOPHERSCOPE_MEMORY_LIMIT"
	// EnvAppMemoryLimit is the app container's memory limit in bytes
	// (resourceFieldRef limits.memory with containerName, divisor 1), set
	// only where that container has a memory limit: for one without, the
	// downward API gives the node's allocatable, which is no limit.
	EnvAppMemoryLimit = "GOPHERSCOPE_APP_MEMORY_LIMIT"
	// EnvAppCPULimitMillis is the app container's CPU limit in millicores
	// (resourceFieldRef limits.cpu with containerName, divisor 1m: divisor
	// 1 would round it up to whole cores), set only where that container
	// has a CPU limit.
	EnvAppCPULimitMillis = "GOPHERSCOPE_APP_CPU_LIMIT_MILLIS"
	// EnvDiagnosticsCA is the PEM bundle of the diagnostics CA's roots,
	// written into the pod at injection: the diagnostics port accepts only
	// clients with a certificate they issued.
	EnvDiagnosticsCA = "GOPHERSCOPE_DIAGNOSTICS_CA"
	// EnvAppGOMEMLIMIT is the app container's GOMEMLIMIT as its pod spec
	// sets it, set only where the spec does.
	EnvAppGOMEMLIMIT = "GOPHERSCOPE_APP_GOMEMLIMIT"
	// EnvAppGOGC is the app container's GOGC as its pod spec sets it, set
	// only where the spec does.
	EnvAppGOGC = "GOPHERSCOPE_APP_GOGC"
	// EnvAppGOMAXPROCS is the app container's GOMAXPROCS as its pod spec
	// sets it, set only where the spec does.
	EnvAppGOMAXPROCS = "GOPHERSCOPE_APP_GOMAXPROCS"
)
