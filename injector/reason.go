package injector

// The reasons. They are a metric label value, so the set is fixed and small;
// what varies (names, values) goes into Decision.Message and the warnings.
const (
	// ReasonInjected: the sidecar was added.
	ReasonInjected Reason = "injected"
	// ReasonAlreadyInjected: the pod already carries the sidecar container
	// (a second pass, a webhook reinvocation, the CLI run twice).
	ReasonAlreadyInjected Reason = "already-injected"
	// ReasonPodOptedOut: the pod's gopherscope.io/inject label is "disabled".
	ReasonPodOptedOut Reason = "pod-opted-out"
	// ReasonPodAnnotationOptOut: the pod's gopherscope.io/inject annotation is "false".
	ReasonPodAnnotationOptOut Reason = "pod-annotation-opt-out"
	// ReasonNamespaceDisabled: the namespace's gopherscope.io/inject label is "disabled".
	ReasonNamespaceDisabled Reason = "namespace-disabled"
	// ReasonNotOptedIn: neither the pod nor its namespace is labelled "enabled".
	ReasonNotOptedIn Reason = "not-opted-in"
	// ReasonExcludedNamespace: the namespace is in Config.ExcludedNamespaces.
	ReasonExcludedNamespace Reason = "excluded-namespace"
	// ReasonGopherscopePod: the pod is one of gopherscope's own (config.LabelComponent).
	ReasonGopherscopePod Reason = "gopherscope-pod"
	// ReasonHostNetwork: the pod uses the host's network and the config does not allow it.
	ReasonHostNetwork Reason = "host-network"
	// ReasonWindows: the pod runs on Windows nodes (spec.os.name, nodeSelector
	// or required node affinity), where the Linux sidecar cannot run.
	ReasonWindows Reason = "windows"
	// ReasonResources: with the sidecar, the pod would break its namespace's
	// LimitRanges or its own pod-level resources, and the API server would
	// refuse it.
	ReasonResources Reason = "resources"
	// ReasonInvalidAnnotations: strict mode and at least one annotation value is invalid.
	ReasonInvalidAnnotations Reason = "invalid-annotations"
	// ReasonNoContainers: the pod has no container to observe.
	ReasonNoContainers Reason = "no-containers"
	// ReasonInvalidInput: the caller passed no pod or no config.
	ReasonInvalidInput Reason = "invalid-input"
)

// AllReasons returns every Reason the injector can give, in a fixed order,
// so that metrics can pre-register their label values.
func AllReasons() []Reason {
	return []Reason{
		ReasonInjected,
		ReasonAlreadyInjected,
		ReasonPodOptedOut,
		ReasonPodAnnotationOptOut,
		ReasonNamespaceDisabled,
		ReasonNotOptedIn,
		ReasonExcludedNamespace,
		ReasonGopherscopePod,
		ReasonHostNetwork,
		ReasonWindows,
		ReasonResources,
		ReasonInvalidAnnotations,
		ReasonNoContainers,
		ReasonInvalidInput,
	}
}
