package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/json"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

// DefaultLookupTimeout bounds the namespace lookup of one request; the API
// server gives the whole webhook call 5 seconds.
const DefaultLookupTimeout = 2 * time.Second

// errNoRequest answers a review without a request. The API server gives
// every request a uid and an operation: a body that decoded to an empty
// request (null, YAML, a Pod, a review of another version) was not sent by
// one, so say so rather than "admitted".
var errNoRequest = errors.New("the AdmissionReview carries no request (no uid or operation): it was not sent by an API server")

// PodInjector is the admission.Handler that injects the sidecar into pods at
// creation. It re-checks every opt-in rule (the webhook configuration's
// selectors are a first filter, not the only one) and never blocks a pod for
// a reason of its own: only strict mode denies.
//
// dryRun requests are handled exactly like the others: the handler has no
// side effects, so the answer to a dry run is the answer to the real request.
type PodInjector struct {
	// Config holds the current injection configuration.
	Config *ConfigProvider
	// Namespaces looks up the labels of the pod's namespace.
	Namespaces NamespaceLookup
	// LimitRanges looks up the LimitRanges of the pod's namespace; nil
	// knows none.
	LimitRanges LimitRangeLookup
	// ServerMinor is the API server's Kubernetes 1.x minor version.
	ServerMinor int
	// Kubelets looks up the oldest kubelet's version, which decides
	// nativeSidecar: auto on API servers 1.29 to 1.31 (where prepareConfig
	// leaves it unresolved); nil leaves the config as it is.
	Kubelets KubeletVersionLookup
	// Metrics counts decisions; nil counts nothing.
	Metrics *Metrics
	// LookupTimeout bounds the namespace lookup; 0 means DefaultLookupTimeout.
	LookupTimeout time.Duration
}

var _ admission.Handler = (*PodInjector)(nil)

// outcome is what one request came to, for the metric and the log line.
type outcome struct {
	result   string
	reason   injector.Reason
	pod      string
	warnings int
	err      error
}

// Handle implements admission.Handler.
func (h *PodInjector) Handle(ctx context.Context, req admission.Request) (resp admission.Response) {
	var out outcome
	defer func() {
		if r := recover(); r != nil {
			out = outcome{result: ResultError, reason: ReasonInternalError, pod: out.pod, err: fmt.Errorf("panic: %v", r)}
			resp = admission.Errored(http.StatusInternalServerError, fmt.Errorf("gopherscope: internal error (recovered panic): %v", r))
		}
		h.Metrics.observe(out.result, out.reason)
		h.logDecision(ctx, req, out)
	}()
	resp, out = h.handle(ctx, req)
	out.warnings = len(resp.Warnings)
	return resp
}

// handle decides on one request.
func (h *PodInjector) handle(ctx context.Context, req admission.Request) (admission.Response, outcome) {
	if req.UID == "" || req.Operation == "" {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("gopherscope: %w", errNoRequest)),
			outcome{result: ResultError, reason: ReasonMalformed, pod: req.Name, err: errNoRequest}
	}
	if req.Operation != admissionv1.Create {
		return admission.Allowed(fmt.Sprintf("gopherscope injects pods at CREATE only; %s is admitted unchanged", req.Operation)),
			outcome{result: ResultSkip, reason: ReasonNotCreate, pod: req.Name}
	}
	if !isPodRequest(req) {
		return admission.Allowed(fmt.Sprintf("gopherscope handles v1 pods only; %s %s is admitted unchanged", describeKind(req), req.Name)),
			outcome{result: ResultSkip, reason: ReasonNotAPod, pod: req.Name}
	}
	pod, err := decodePod(req.Object.Raw)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("gopherscope: %w", err)),
			outcome{result: ResultError, reason: ReasonMalformed, pod: req.Name, err: err}
	}
	name := podName(pod, req.Name)

	labels, err := h.namespaceLabels(ctx, req.Namespace)
	if err != nil {
		resp := admission.Allowed("namespace unknown; admitted unchanged").WithWarnings(fmt.Sprintf(
			"gopherscope: the labels of namespace %q could not be read, so the pod was created without the gopherscope sidecar", req.Namespace))
		return resp, outcome{result: ResultSkip, reason: ReasonNamespaceUnknown, pod: name, err: err}
	}

	ranges, err := h.limitRanges(ctx, req.Namespace)
	if err != nil {
		resp := admission.Allowed("LimitRanges unknown; admitted unchanged").WithWarnings(fmt.Sprintf(
			"gopherscope: the LimitRanges of namespace %q could not be read, so the pod was created without the gopherscope sidecar", req.Namespace))
		return resp, outcome{result: ResultSkip, reason: ReasonLimitRangesUnknown, pod: name, err: err}
	}

	injected, warnings, decision := injector.Inject(pod, injector.Namespace{Name: req.Namespace, Labels: labels, LimitRanges: ranges}, h.injectionConfig(ctx))
	out := outcome{result: resultOfAction(decision.Action), reason: decision.Reason, pod: name}
	switch decision.Action {
	case injector.ActionInject:
		if len(warnings) > 0 {
			out.reason = ReasonWarnings
		}
		resp, err := patchResponse(req.Object.Raw, pod, injected)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, fmt.Errorf("gopherscope: %w", err)),
				outcome{result: ResultError, reason: ReasonInternalError, pod: name, err: err}
		}
		return resp.WithWarnings(warnings...), out
	case injector.ActionDeny:
		return admission.Denied(decision.Message).WithWarnings(warnings...), out
	default:
		return admission.Allowed(decision.Message).WithWarnings(warnings...), out
	}
}

// namespaceLabels looks the namespace up within the handler's time bound.
func (h *PodInjector) namespaceLabels(ctx context.Context, name string) (map[string]string, error) {
	return lookupNamespaceLabels(ctx, h.Namespaces, h.LookupTimeout, name)
}

// injectionConfig is the current configuration, its nativeSidecar: auto
// resolved from the oldest kubelet where the API server's version leaves it
// open (config.ChooseNativeSidecar). A failed lookup counts as no kubelet
// known: a regular container, which runs on any kubelet.
func (h *PodInjector) injectionConfig(ctx context.Context) *config.Config {
	cfg := h.Config.Load()
	if h.Kubelets == nil || !config.NeedsKubeletVersion(cfg.NativeSidecar, h.ServerMinor) {
		return cfg
	}
	oldest, err := h.Kubelets.OldestKubeletMinor(ctx)
	if err != nil {
		oldest = config.UnknownKubelet
	}
	return cfg.ResolveNativeSidecarFor(h.ServerMinor, oldest)
}

// limitRanges looks the namespace's LimitRanges up within the handler's
// time bound.
func (h *PodInjector) limitRanges(ctx context.Context, namespace string) ([]corev1.LimitRange, error) {
	if h.LimitRanges == nil {
		return nil, nil
	}
	timeout := h.LookupTimeout
	if timeout <= 0 {
		timeout = DefaultLookupTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return h.LimitRanges.LimitRanges(ctx, namespace)
}

// logDecision writes the one log line of a request. It never logs the
// object, its env values or the warnings' text (they quote user values).
func (h *PodInjector) logDecision(ctx context.Context, req admission.Request, out outcome) {
	logAdmission(ctx, req, "admission decision", out.err,
		"pod", out.pod, "decision", out.result, "reason", out.reason, "warnings", out.warnings)
}

// logAdmission writes the one log line of an admission decision: the
// request's namespace, uid, operation and dry run, then keysAndValues; an
// error makes it an error line.
func logAdmission(ctx context.Context, req admission.Request, msg string, err error, keysAndValues ...any) {
	log := logf.FromContext(ctx).WithValues(
		"namespace", req.Namespace,
		"uid", req.UID,
		"operation", req.Operation,
		"dryRun", req.DryRun != nil && *req.DryRun,
	).WithValues(keysAndValues...)
	if err != nil {
		log.Error(err, msg)
		return
	}
	log.Info(msg)
}

// isPodRequest reports whether the request is about a v1 Pod itself (not a
// subresource such as pods/binding or pods/eviction).
func isPodRequest(req admission.Request) bool {
	return req.Kind.Group == "" && req.Kind.Version == "v1" && req.Kind.Kind == "Pod" &&
		req.Resource.Group == "" && req.Resource.Resource == "pods" && req.SubResource == ""
}

// describeKind names what a request is about, for messages.
func describeKind(req admission.Request) string {
	kind := req.Kind.Kind
	if req.Kind.Group != "" {
		kind = req.Kind.Group + "/" + req.Kind.Version + " " + kind
	}
	if req.SubResource != "" {
		kind += " (" + req.Resource.Resource + "/" + req.SubResource + ")"
	}
	return kind
}

// podName is the pod's name, or its generateName when the API server has not
// named it yet, or the request's name.
func podName(pod *corev1.Pod, fallback string) string {
	switch {
	case pod.Name != "":
		return pod.Name
	case pod.GenerateName != "":
		return pod.GenerateName
	default:
		return fallback
	}
}

// decodePod decodes the request's object as a v1 Pod. Field names are
// matched case-sensitively, as the API server does.
func decodePod(raw []byte) (*corev1.Pod, error) {
	if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("the request's object is not a JSON object")
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(raw, pod); err != nil {
		return nil, fmt.Errorf("decode the object as a Pod: %w", err)
	}
	if pod.APIVersion != "" && pod.APIVersion != "v1" || pod.Kind != "" && pod.Kind != "Pod" {
		return nil, fmt.Errorf("the object is a %s %s, not a v1 Pod", pod.APIVersion, pod.Kind)
	}
	return pod, nil
}
