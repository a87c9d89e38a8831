package webhook

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/config"
)

// Kinds of the tests' requests.
var (
	deploymentKind = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	cronJobKind    = metav1.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}
)

// newTestValidator returns a workload validator over testNamespaces with its
// own registry.
func newTestValidator(t *testing.T, cfg *config.Config) (*WorkloadValidator, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	metrics, err := NewWorkloadMetrics(reg)
	if err != nil {
		t.Fatalf("NewWorkloadMetrics: %v", err)
	}
	return &WorkloadValidator{Config: NewConfigProvider(cfg), Namespaces: testNamespaces, Metrics: metrics}, reg
}

// podTemplate is the template of a one-container Go service.
func podTemplate(annotations, labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/web:1.0"}}},
	}
}

// workload wraps a pod template in an object of the given kind.
func workload(t *testing.T, kind metav1.GroupVersionKind, tmpl corev1.PodTemplateSpec) runtime.Object {
	t.Helper()
	meta := metav1.ObjectMeta{Name: "web", Namespace: "shop"}
	var obj runtime.Object
	switch kind.Kind {
	case "Deployment":
		obj = &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Template: tmpl}}
	case "StatefulSet":
		obj = &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Template: tmpl}}
	case "DaemonSet":
		obj = &appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Template: tmpl}}
	case "ReplicaSet":
		obj = &appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Template: tmpl}}
	case "Job":
		obj = &batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: tmpl}}
	case "CronJob":
		obj = &batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{Schedule: "@hourly", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}
	default:
		t.Fatalf("no test object for kind %s", kind.Kind)
	}
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Group: kind.Group, Version: kind.Version, Kind: kind.Kind})
	return obj
}

// workloadRequest is an admission request for obj (and old, at UPDATE).
func workloadRequest(t *testing.T, op admissionv1.Operation, ns string, kind metav1.GroupVersionKind, obj, old runtime.Object) admissionv1.AdmissionRequest {
	t.Helper()
	req := admissionv1.AdmissionRequest{
		UID:       types.UID("7c1e9f0a-5d2b-4c3e-8f6a-1b2c3d4e5f60"),
		Kind:      kind,
		Resource:  metav1.GroupVersionResource{Group: kind.Group, Version: kind.Version, Resource: strings.ToLower(kind.Kind) + "s"},
		Name:      "web",
		Namespace: ns,
		Operation: op,
		Object:    runtime.RawExtension{Raw: mustJSON(t, obj)},
	}
	if old != nil {
		req.OldObject = runtime.RawExtension{Raw: mustJSON(t, old)}
	}
	return req
}

func TestWorkloadValidatorGivesTheWarningsOfTheTemplatesPods(t *testing.T) {
	badInterval := map[string]string{config.AnnotationInterval: "fast"}
	intervalWarning := `gopherscope.io/interval: "fast" is not a duration; using the default 10s`
	intervalDenial := `invalid gopherscope annotations (strict mode): gopherscope.io/interval: "fast" is not a duration`
	tests := []struct {
		name         string
		strict       bool
		req          admissionv1.AdmissionRequest
		wantAllowed  bool
		wantCode     int32
		wantMessage  string
		wantWarnings []string
		wantResult   string
	}{
		{
			name:        "a Deployment with a valid template in an enabled namespace is admitted with nothing to say",
			req:         workloadRequest(t, admissionv1.Create, "shop", deploymentKind, workload(t, deploymentKind, podTemplate(nil, nil)), nil),
			wantAllowed: true, wantCode: http.StatusOK, wantResult: CheckAllowed,
		},
		{
			name:        "a Deployment with an invalid annotation in an enabled namespace is admitted with the pod's warning",
			req:         workloadRequest(t, admissionv1.Create, "shop", deploymentKind, workload(t, deploymentKind, podTemplate(badInterval, nil)), nil),
			wantAllowed: true, wantCode: http.StatusOK, wantWarnings: []string{intervalWarning}, wantResult: CheckWarned,
		},
		{
			name: "a Deployment whose app has a memory limit and no GOMEMLIMIT is admitted with the advice to set it",
			req: workloadRequest(t, admissionv1.Create, "shop", deploymentKind, workload(t, deploymentKind, func() corev1.PodTemplateSpec {
				tmpl := podTemplate(nil, nil)
				tmpl.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}
				return tmpl
			}()), nil),
			wantAllowed: true, wantCode: http.StatusOK, wantResult: CheckWarned, wantWarnings: []string{
				`the app container "app" has a memory limit of 256Mi but no GOMEMLIMIT: set it (to about 90% of the limit, so the Go runtime ` +
					`collects garbage before the kernel kills the container), or add the annotation gopherscope.io/tune: gomemlimit`,
			},
		},
		{
			name:        "in strict mode the same Deployment is denied with the pod's message",
			strict:      true,
			req:         workloadRequest(t, admissionv1.Create, "shop", deploymentKind, workload(t, deploymentKind, podTemplate(badInterval, nil)), nil),
			wantAllowed: false, wantCode: http.StatusForbidden, wantMessage: intervalDenial, wantResult: CheckDenied,
		},
		{
			name:        "a CronJob's job template is checked",
			req:         workloadRequest(t, admissionv1.Create, "shop", cronJobKind, workload(t, cronJobKind, podTemplate(badInterval, nil)), nil),
			wantAllowed: true, wantCode: http.StatusOK, wantWarnings: []string{intervalWarning}, wantResult: CheckWarned,
		},
		{
			name: "a template labelled enabled in an unlabelled namespace is checked",
			req: workloadRequest(t, admissionv1.Create, "plain", deploymentKind,
				workload(t, deploymentKind, podTemplate(badInterval, map[string]string{config.KeyInject: config.InjectEnabled})), nil),
			wantAllowed: true, wantCode: http.StatusOK, wantWarnings: []string{intervalWarning}, wantResult: CheckWarned,
		},
		{
			name:        "a template whose pods are not injected gets no warning about their settings",
			req:         workloadRequest(t, admissionv1.Create, "plain", deploymentKind, workload(t, deploymentKind, podTemplate(badInterval, nil)), nil),
			wantAllowed: true, wantCode: http.StatusOK, wantResult: CheckAllowed,
		},
		{
			name:        "in strict mode a template whose pods are not injected is not denied",
			strict:      true,
			req:         workloadRequest(t, admissionv1.Create, "off", deploymentKind, workload(t, deploymentKind, podTemplate(badInterval, nil)), nil),
			wantAllowed: true, wantCode: http.StatusOK, wantResult: CheckAllowed,
		},
		{
			name: "an UPDATE that changes the template is checked",
			req: workloadRequest(t, admissionv1.Update, "shop", deploymentKind,
				workload(t, deploymentKind, podTemplate(badInterval, nil)), workload(t, deploymentKind, podTemplate(nil, nil))),
			wantAllowed: true, wantCode: http.StatusOK, wantWarnings: []string{intervalWarning}, wantResult: CheckWarned,
		},
		{
			name:   "in strict mode an UPDATE that leaves the template as it was is admitted, so controllers can still scale the workload",
			strict: true,
			req: workloadRequest(t, admissionv1.Update, "shop", deploymentKind,
				workload(t, deploymentKind, podTemplate(badInterval, nil)), workload(t, deploymentKind, podTemplate(badInterval, nil))),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: "unchanged", wantResult: CheckAllowed,
		},
		{
			name:        "a namespace that cannot be read is admitted unchecked",
			req:         workloadRequest(t, admissionv1.Create, "unknown", deploymentKind, workload(t, deploymentKind, podTemplate(badInterval, nil)), nil),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: "namespace unknown", wantResult: CheckError,
		},
		{
			name: "a kind without a pod template is admitted unchecked",
			req: func() admissionv1.AdmissionRequest {
				r := workloadRequest(t, admissionv1.Create, "shop", deploymentKind, workload(t, deploymentKind, podTemplate(badInterval, nil)), nil)
				r.Kind = metav1.GroupVersionKind{Version: "v1", Kind: "Service"}
				return r
			}(),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: "is not checked", wantResult: CheckAllowed,
		},
		{
			name: "a DELETE is admitted unchecked",
			req: func() admissionv1.AdmissionRequest {
				r := workloadRequest(t, admissionv1.Delete, "shop", deploymentKind, workload(t, deploymentKind, podTemplate(badInterval, nil)), nil)
				r.Object = runtime.RawExtension{}
				return r
			}(),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: "is not checked", wantResult: CheckAllowed,
		},
		{
			name: "an object of the wrong shape is a bad request",
			req: func() admissionv1.AdmissionRequest {
				r := workloadRequest(t, admissionv1.Create, "shop", deploymentKind, workload(t, deploymentKind, podTemplate(nil, nil)), nil)
				r.Object.Raw = []byte(`{"spec":{"template":"app"}}`)
				return r
			}(),
			wantAllowed: false, wantCode: http.StatusBadRequest, wantMessage: "decode the object as a Deployment", wantResult: CheckError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := newTestValidator(t, testConfig(func(c *config.Config) { c.Strict = tt.strict }))
			status, review := serve(t, v, reviewJSON(t, tt.req))
			resp := review.Response
			if status != http.StatusOK || resp.UID != tt.req.UID {
				t.Errorf("HTTP %d, uid %q; want 200 and the request's uid", status, resp.UID)
			}
			if resp.Allowed != tt.wantAllowed || resp.Result == nil || resp.Result.Code != tt.wantCode {
				t.Fatalf("allowed = %v, result %+v; want allowed %v with code %d", resp.Allowed, resp.Result, tt.wantAllowed, tt.wantCode)
			}
			if !strings.Contains(resp.Result.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", resp.Result.Message, tt.wantMessage)
			}
			if diff := cmp.Diff(tt.wantWarnings, resp.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if len(resp.Patch) != 0 || resp.PatchType != nil {
				t.Errorf("patch = %s (type %v); the validator never mutates", resp.Patch, resp.PatchType)
			}
			if got := testutil.ToFloat64(v.Metrics.checks.WithLabelValues(tt.wantResult)); got != 1 {
				t.Errorf("%s{result=%q} = %v, want 1", MetricWorkloadChecksTotal, tt.wantResult, got)
			}
		})
	}
}

func TestWorkloadValidatorReadsTheTemplateOfEveryWorkloadKind(t *testing.T) {
	for kind := range WorkloadKinds {
		t.Run(kind.Kind, func(t *testing.T) {
			v, _ := newTestValidator(t, testConfig(nil))
			req := workloadRequest(t, admissionv1.Create, "shop", kind, workload(t, kind, podTemplate(map[string]string{config.AnnotationPort: "http"}, nil)), nil)
			resp := v.Handle(t.Context(), admission.Request{AdmissionRequest: req})
			want := []string{`gopherscope.io/port: "http" is not a port (1-65535); using the default 6060`}
			if !resp.Allowed || !cmp.Equal(want, resp.Warnings) {
				t.Errorf("allowed %v, warnings %q; want allowed with %q", resp.Allowed, resp.Warnings, want)
			}
		})
	}
}

// TestWorkloadValidatorAnswersLikeThePodHandlerOnEveryGoldenCase: each
// injector golden case's pod, as the template of a Deployment and of a
// CronJob, gets the warnings the pod itself gets, and a denial exactly when
// the pod is denied, with the same message.
func TestWorkloadValidatorAnswersLikeThePodHandlerOnEveryGoldenCase(t *testing.T) {
	for _, c := range loadHandlerCases(t) {
		t.Run(c.name, func(t *testing.T) {
			namespaces := NamespaceMap{c.namespace: c.labels}
			limitRanges := LimitRangeMap{c.namespace: c.limitRanges}
			pods := &PodInjector{Config: NewConfigProvider(c.cfg), Namespaces: namespaces, LimitRanges: limitRanges}
			podResp := pods.Handle(t.Context(), admission.Request{AdmissionRequest: podRequest(c.namespace, c.typed)})
			var pod corev1.Pod
			if err := json.Unmarshal(c.typed, &pod); err != nil {
				t.Fatal(err)
			}
			tmpl := corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}
			v := &WorkloadValidator{Config: NewConfigProvider(c.cfg), Namespaces: namespaces, LimitRanges: limitRanges}
			for _, kind := range []metav1.GroupVersionKind{deploymentKind, cronJobKind} {
				req := workloadRequest(t, admissionv1.Create, c.namespace, kind, workload(t, kind, tmpl), nil)
				resp := v.Handle(t.Context(), admission.Request{AdmissionRequest: req})
				if resp.Allowed != podResp.Allowed {
					t.Errorf("%s: allowed = %v, the pod's %v", kind.Kind, resp.Allowed, podResp.Allowed)
				}
				if diff := cmp.Diff(podResp.Warnings, resp.Warnings); diff != "" {
					t.Errorf("%s: warnings (-pod's +workload's):\n%s", kind.Kind, diff)
				}
				if !podResp.Allowed && resp.Result.Message != podResp.Result.Message {
					t.Errorf("%s: denial %q, the pod's %q", kind.Kind, resp.Result.Message, podResp.Result.Message)
				}
				if len(resp.Patches) != 0 {
					t.Errorf("%s: %d patch operations; the validator never mutates", kind.Kind, len(resp.Patches))
				}
			}
		})
	}
}

func TestWorkloadValidatorLogsOneLinePerCheckWithoutTheWarningsText(t *testing.T) {
	var lines []string
	log := funcr.NewJSON(func(obj string) { lines = append(lines, obj) }, funcr.Options{})
	v, _ := newTestValidator(t, testConfig(nil))
	req := workloadRequest(t, admissionv1.Create, "shop", cronJobKind, workload(t, cronJobKind, podTemplate(map[string]string{config.AnnotationInterval: "hunter2"}, nil)), nil)
	v.Handle(logf.IntoContext(t.Context(), log), admission.Request{AdmissionRequest: req})
	if len(lines) != 1 {
		t.Fatalf("log lines = %d, want 1: %q", len(lines), lines)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("decode the log line %q: %v", lines[0], err)
	}
	want := map[string]any{
		"logger": "", "level": float64(0), "msg": "workload check",
		"namespace": "shop", "kind": "CronJob", "name": "web", "uid": string(req.UID), "operation": "CREATE",
		"decision": CheckWarned, "reason": "injected", "dryRun": false, "warnings": float64(1),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log line (-want +got):\n%s", diff)
	}
	if strings.Contains(lines[0], "hunter2") {
		t.Errorf("the log line quotes the annotation's value: %s", lines[0])
	}
}

func TestNewWorkloadMetricsStartsEveryResultAtZero(t *testing.T) {
	_, reg := newTestValidator(t, testConfig(nil))
	want := `
# HELP gopherscope_workload_checks_total Checks of workloads' pod templates at CREATE and UPDATE, by result (allowed, warned, denied, error).
# TYPE gopherscope_workload_checks_total counter
gopherscope_workload_checks_total{result="allowed"} 0
gopherscope_workload_checks_total{result="denied"} 0
gopherscope_workload_checks_total{result="error"} 0
gopherscope_workload_checks_total{result="warned"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), MetricWorkloadChecksTotal); err != nil {
		t.Error(err)
	}
	if _, err := NewWorkloadMetrics(reg); err != nil {
		t.Errorf("a second NewWorkloadMetrics on one registry: %v", err)
	}
}
