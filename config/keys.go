package config

// Label and annotation keys. Labels select (they are what the webhook
// configuration's namespaceSelector and objectSelector match), annotations
// configure. Every key the product reads or writes is declared here.
const (
	// KeyInject is the opt-in key. As a namespace or pod label its value is
	// InjectEnabled or InjectDisabled; as a pod annotation the value "false"
	// opts the pod out (checked by the handler and by matchConditions).
	KeyInject = "gopherscope.io/inject"

	// LabelComponent marks gopherscope's own pods (the webhook). Pods that
	// carry it are never injected, whatever their namespace says.
	LabelComponent = "gopherscope.io/component"

	// LabelSidecarVersion is set on every injected pod to the sidecar's
	// version (its image tag, made a valid label value), so that
	// `kubectl get pods -L` and label selectors (the chart's PodMonitor)
	// see which pods carry the sidecar, and which version.
	LabelSidecarVersion = "gopherscope.io/sidecar-version"

	// AnnotationStatus is written on every injected pod: a JSON Status. Its
	// presence together with the sidecar container makes injection idempotent.
	AnnotationStatus = "gopherscope.io/status"

	// AnnotationPort is the app's debug port; a comma-separated list is probed
	// in order by the sidecar. Default: Config.Target.Ports.
	AnnotationPort = "gopherscope.io/port"

	// AnnotationExpvarPath is the path of the app's expvar handler.
	AnnotationExpvarPath = "gopherscope.io/expvar-path"

	// AnnotationPprofPath is the path prefix of the app's net/http/pprof handlers.
	AnnotationPprofPath = "gopherscope.io/pprof-path"

	// AnnotationMetricsPath is the path of the app's own Prometheus endpoint, if it has one.
	AnnotationMetricsPath = "gopherscope.io/metrics-path"

	// AnnotationContainer names the container that runs the Go app. Default: the first container.
	AnnotationContainer = "gopherscope.io/container"

	// AnnotationInterval is the sampling interval (a Go duration, at least MinInterval).
	AnnotationInterval = "gopherscope.io/interval"

	// AnnotationSidecarCPU overrides the sidecar's CPU request (a Kubernetes quantity).
	AnnotationSidecarCPU = "gopherscope.io/sidecar-cpu"

	// AnnotationSidecarMemory overrides the sidecar's memory request (a Kubernetes quantity).
	AnnotationSidecarMemory = "gopherscope.io/sidecar-memory"

	// AnnotationSidecarImage overrides the sidecar image for this pod.
	AnnotationSidecarImage = "gopherscope.io/sidecar-image"

	// AnnotationFindings overrides the thresholds of the sidecar's
	// findings for this pod: comma-separated key=value pairs (e.g.
	// "leak-windows=6,gc-share=0.4"), the keys and bounds of
	// findings.ParseOptions.
	AnnotationFindings = "gopherscope.io/findings"

	// AnnotationTune asks for tuning of the app container at admission: a
	// comma-separated list of Tunings (TuningGOMEMLIMIT sets GOMEMLIMIT to a
	// share of the container's memory limit, where the user has not set it).
	AnnotationTune = "gopherscope.io/tune"

	// AnnotationPrometheusScrape, AnnotationPrometheusPort and
	// AnnotationPrometheusPath are the conventional scrape annotations. The
	// injector sets them to the sidecar only where the user has set none.
	AnnotationPrometheusScrape = "prometheus.io/scrape"
	// AnnotationPrometheusPort: see AnnotationPrometheusScrape.
	AnnotationPrometheusPort = "prometheus.io/port"
	// AnnotationPrometheusPath: see AnnotationPrometheusScrape.
	AnnotationPrometheusPath = "prometheus.io/path"

	// AnnotationDefaultContainer is kubectl's default container for logs and
	// exec; set to the app container when absent, so kubectl never lands in the sidecar.
	AnnotationDefaultContainer = "kubectl.kubernetes.io/default-container"
)

// Values of KeyInject.
const (
	// InjectEnabled opts a namespace or pod in.
	InjectEnabled = "enabled"
	// InjectDisabled opts a namespace or pod out.
	InjectDisabled = "disabled"
	// InjectAnnotationFalse is the value of the KeyInject annotation that opts a pod out.
	InjectAnnotationFalse = "false"
)

// Names the injector gives to what it adds.
const (
	// SidecarContainerName is the name of the injected container.
	SidecarContainerName = "gopherscope-sidecar"
	// SidecarPortName is the name of the sidecar's metrics port.
	SidecarPortName = "gs-metrics"
	// SidecarDiagnosticsPortName is the name of the sidecar's diagnostics
	// port (mutual TLS, for the diagnostics API server only).
	SidecarDiagnosticsPortName = "gs-diagnostics"
	// SidecarUID is the non-root user the sidecar runs as.
	SidecarUID int64 = 65532

	// EnvPodName, EnvPodNamespace and EnvAppContainer are set on the sidecar:
	// the first two from the downward API, the last to the app container's name.
	EnvPodName = "POD_NAME"
	// EnvPodNamespace: see EnvPodName.
	EnvPodNamespace = "POD_NAMESPACE"
	// EnvAppContainer: see EnvPodName.
	EnvAppContainer = "GOPHERSCOPE_APP_CONTAINER"
)

// KeyPrefix starts every label and annotation key of gopherscope.
const KeyPrefix = "gopherscope.io/"

// PodLabelKeys returns the gopherscope label keys a pod may carry, sorted.
func PodLabelKeys() []string {
	return []string{LabelComponent, KeyInject, LabelSidecarVersion}
}

// PodAnnotationKeys returns the gopherscope annotation keys a pod may
// carry, sorted: those that configure the injection, and the status.
func PodAnnotationKeys() []string {
	return []string{
		AnnotationContainer, AnnotationExpvarPath, AnnotationFindings, KeyInject, AnnotationInterval, AnnotationMetricsPath, AnnotationPort,
		AnnotationPprofPath, AnnotationSidecarCPU, AnnotationSidecarImage, AnnotationSidecarMemory, AnnotationStatus,
		AnnotationTune,
	}
}
