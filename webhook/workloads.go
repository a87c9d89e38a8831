package webhook

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/json"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/injector"
)

// WorkloadPath is where the webhook server serves the workload validator.
const WorkloadPath = "/validate-workloads"

// WorkloadValidator is the admission.Handler of the validating webhook on
// the workloads that hold a pod template (WorkloadKinds). Pods are mostly
// created by controllers, which read no admission warnings; this handler
// tells whoever creates or changes the workload instead. It runs the
// injector on the pod template as on a pod created in the workload's
// namespace and answers with that pod's warnings and, in strict mode, its
// denial with the same message. It never mutates.
//
// An UPDATE that leaves the pod template as it was is admitted silently:
// its warnings were given when it was written, and a denial would block the
// controllers that scale and annotate existing workloads.
type WorkloadValidator struct {
	// Config holds the current injection configuration.
	Config *ConfigProvider
	// Namespaces looks up the labels of the workload's namespace.
	Namespaces NamespaceLookup
	// LimitRanges looks up the LimitRanges of the workload's namespace, which
	// its pods must fit; nil knows none.
	LimitRanges LimitRangeLookup
	// Metrics counts the checks; nil counts nothing.
	Metrics *WorkloadMetrics
	// LookupTimeout bounds the namespace lookup; 0 means DefaultLookupTimeout.
	LookupTimeout time.Duration
}

var _ admission.Handler = (*WorkloadValidator)(nil)

// WorkloadKinds are the kinds the validator reads a pod template from, each
// with the function that decodes one and returns its template.
var WorkloadKinds = map[metav1.GroupVersionKind]func(raw []byte) (*corev1.PodTemplateSpec, error){
	{Group: "apps", Version: "v1", Kind: "Deployment"}:  templateOf(func(o *appsv1.Deployment) *corev1.PodTemplateSpec { return &o.Spec.Template }),
	{Group: "apps", Version: "v1", Kind: "StatefulSet"}: templateOf(func(o *appsv1.StatefulSet) *corev1.PodTemplateSpec { return &o.Spec.Template }),
	{Group: "apps", Version: "v1", Kind: "DaemonSet"}:   templateOf(func(o *appsv1.DaemonSet) *corev1.PodTemplateSpec { return &o.Spec.Template }),
	{Group: "apps", Version: "v1", Kind: "ReplicaSet"}:  templateOf(func(o *appsv1.ReplicaSet) *corev1.PodTemplateSpec { return &o.Spec.Template }),
	{Group: "batch", Version: "v1", Kind: "Job"}:        templateOf(func(o *batchv1.Job) *corev1.PodTemplateSpec { return &o.Spec.Template }),
	{Group: "batch", Version: "v1", Kind: "CronJob"}: templateOf(func(o *batchv1.CronJob) *corev1.PodTemplateSpec {
		return &o.Spec.JobTemplate.Spec.Template
	}),
}

// templateOf decodes a T and returns the pod template get finds in it.
// Field names are matched case-sensitively, as the API server does.
func templateOf[T any](get func(*T) *corev1.PodTemplateSpec) func([]byte) (*corev1.PodTemplateSpec, error) {
	return func(raw []byte) (*corev1.PodTemplateSpec, error) {
		obj := new(T)
		if err := json.Unmarshal(raw, obj); err != nil {
			return nil, err
		}
		return get(obj), nil
	}
}

// workloadOutcome is what one check came to, for the metric and the log line.
type workloadOutcome struct {
	result   string
	reason   injector.Reason
	warnings int
	err      error
}

// Handle implements admission.Handler.
func (v *WorkloadValidator) Handle(ctx context.Context, req admission.Request) (resp admission.Response) {
	var out workloadOutcome
	defer func() {
		if r := recover(); r != nil {
			out = workloadOutcome{result: CheckError, reason: ReasonInternalError, err: fmt.Errorf("panic: %v", r)}
			resp = admission.Errored(http.StatusInternalServerError, fmt.Errorf("gopherscope: internal error (recovered panic): %v", r))
		}
		out.warnings = len(resp.Warnings)
		v.Metrics.observe(out.result)
		v.logDecision(ctx, req, out)
	}()
	resp, out = v.handle(ctx, req)
	return resp
}

// handle checks one request.
func (v *WorkloadValidator) handle(ctx context.Context, req admission.Request) (admission.Response, workloadOutcome) {
	if req.UID == "" || req.Operation == "" {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("gopherscope: %w", errNoRequest)),
			workloadOutcome{result: CheckError, reason: ReasonMalformed, err: errNoRequest}
	}
	decode, ok := WorkloadKinds[req.Kind]
	if !ok || req.SubResource != "" || (req.Operation != admissionv1.Create && req.Operation != admissionv1.Update) {
		return admission.Allowed(fmt.Sprintf("gopherscope checks the pod templates of workloads at CREATE and UPDATE; %s %s is not checked", req.Operation, describeKind(req))),
			workloadOutcome{result: CheckAllowed, reason: ReasonNotAWorkload}
	}
	template, err := decode(req.Object.Raw)
	if err != nil {
		err = fmt.Errorf("decode the object as a %s: %w", req.Kind.Kind, err)
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("gopherscope: %w", err)),
			workloadOutcome{result: CheckError, reason: ReasonMalformed, err: err}
	}
	if req.Operation == admissionv1.Update {
		// An old object that does not decode counts as changed.
		if old, err := decode(req.OldObject.Raw); err == nil && equality.Semantic.DeepEqual(old, template) {
			return admission.Allowed("the pod template is unchanged"), workloadOutcome{result: CheckAllowed, reason: ReasonTemplateUnchanged}
		}
	}
	labels, err := lookupNamespaceLabels(ctx, v.Namespaces, v.LookupTimeout, req.Namespace)
	if err != nil {
		// The pods will be told; nothing to add here.
		return admission.Allowed("namespace unknown; not checked"), workloadOutcome{result: CheckError, reason: ReasonNamespaceUnknown, err: err}
	}
	var ranges []corev1.LimitRange
	if v.LimitRanges != nil {
		if ranges, err = v.LimitRanges.LimitRanges(ctx, req.Namespace); err != nil {
			// The pods will be told; nothing to add here.
			return admission.Allowed("LimitRanges unknown; not checked"), workloadOutcome{result: CheckError, reason: ReasonLimitRangesUnknown, err: err}
		}
	}
	pod := &corev1.Pod{ObjectMeta: *template.ObjectMeta.DeepCopy(), Spec: template.Spec}
	pod.Namespace = req.Namespace
	_, warnings, decision := injector.Inject(pod, injector.Namespace{Name: req.Namespace, Labels: labels, LimitRanges: ranges}, v.Config.Load())
	if decision.Action == injector.ActionDeny {
		return admission.Denied(decision.Message).WithWarnings(warnings...), workloadOutcome{result: CheckDenied, reason: decision.Reason}
	}
	result := CheckAllowed
	if len(warnings) > 0 {
		result = CheckWarned
	}
	return admission.Allowed("pod template: " + decision.Message).WithWarnings(warnings...),
		workloadOutcome{result: result, reason: decision.Reason}
}

// registerWorkloadValidator serves the workload validator on WorkloadPath.
func registerWorkloadValidator(server crwebhook.Server, provider *ConfigProvider, lookup NamespaceLookup, ranges LimitRangeLookup, registry prometheus.Registerer) error {
	metrics, err := NewWorkloadMetrics(registry)
	if err != nil {
		return err
	}
	server.Register(WorkloadPath, &admission.Webhook{
		Handler: &WorkloadValidator{Config: provider, Namespaces: lookup, LimitRanges: ranges, Metrics: metrics},
		// The handler logs one line per request with its own keys.
		LogConstructor: func(base logr.Logger, _ *admission.Request) logr.Logger { return base },
	})
	return nil
}

// lookupNamespaceLabels looks the namespace up within timeout (0 means
// DefaultLookupTimeout).
func lookupNamespaceLabels(ctx context.Context, lookup NamespaceLookup, timeout time.Duration, name string) (map[string]string, error) {
	if timeout <= 0 {
		timeout = DefaultLookupTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return lookup.NamespaceLabels(ctx, name)
}

// logDecision writes the one log line of a request. It never logs the
// object or the warnings' text (they quote user values).
func (v *WorkloadValidator) logDecision(ctx context.Context, req admission.Request, out workloadOutcome) {
	logAdmission(ctx, req, "workload check", out.err,
		"kind", req.Kind.Kind, "name", req.Name, "decision", out.result, "reason", out.reason, "warnings", out.warnings)
}
