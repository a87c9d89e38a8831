package webhook

import (
	"maps"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/config"
)

// wantStatus is the status annotation the default config writes for podJSON.
const wantStatus = `{"version":"v0.0.0-test","sidecar":"gopherscope-sidecar","native":true,"nativeBasis":"apiserver 1.33","port":9184,` +
	`"target":{"container":"app","ports":[6060],"expvarPath":"/debug/vars","pprofPath":"/debug/pprof"}}`

// wantAddedAnnotations are the annotations injection adds to podJSON.
var wantAddedAnnotations = map[string]string{
	config.AnnotationStatus:           wantStatus,
	config.AnnotationDefaultContainer: "app",
	config.AnnotationPrometheusScrape: "true",
	config.AnnotationPrometheusPort:   "9184",
	config.AnnotationPrometheusPath:   "/metrics",
}

func TestHandlerOverHTTP(t *testing.T) {
	dryRun := true
	deployment := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{}}`)
	tests := []struct {
		name string
		// strict turns on strict mode.
		strict bool
		req    admissionv1.AdmissionRequest
		// wantAllowed and wantCode are the response's verdict and result code.
		wantAllowed bool
		wantCode    int32
		// wantMessage is a substring of the result's message.
		wantMessage string
		// wantOps says which patch operations are expected: nil for none;
		// "annotations" adds the whole map, "annotation-keys" adds each key.
		wantOps      string
		wantWarnings []string
	}{
		{
			name:        "a pod in an opted-in namespace gets the sidecar",
			req:         podRequest("shop", podJSON(nil, nil)),
			wantAllowed: true, wantCode: http.StatusOK, wantOps: "annotations",
		},
		{
			name:        "a pod without opt-in is admitted unchanged",
			req:         podRequest("plain", podJSON(nil, nil)),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: `namespace "plain" has the label`,
		},
		{
			name:        "a pod labelled enabled in an unlabelled namespace gets the sidecar",
			req:         podRequest("plain", podJSON(nil, map[string]string{config.KeyInject: config.InjectEnabled})),
			wantAllowed: true, wantCode: http.StatusOK, wantOps: "annotations",
		},
		{
			name:        "a pod opting out by annotation is admitted unchanged",
			req:         podRequest("shop", podJSON(map[string]string{config.KeyInject: "false"}, nil)),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: config.KeyInject,
		},
		{
			name:        "a pod in the webhook's own namespace is never injected",
			req:         podRequest("gopherscope", podJSON(nil, nil)),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: "excluded",
		},
		{
			name: "a dry run gets the same patch as the real request",
			req: func() admissionv1.AdmissionRequest {
				r := podRequest("shop", podJSON(nil, nil))
				r.DryRun = &dryRun
				return r
			}(),
			wantAllowed: true, wantCode: http.StatusOK, wantOps: "annotations",
		},
		{
			name: "an UPDATE is admitted unchanged",
			req: func() admissionv1.AdmissionRequest {
				r := podRequest("shop", podJSON(nil, nil))
				r.Operation = admissionv1.Update
				r.OldObject = r.Object
				return r
			}(),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: "CREATE only; UPDATE is admitted unchanged",
		},
		{
			name: "a Deployment sent by mistake is admitted unchanged",
			req: func() admissionv1.AdmissionRequest {
				r := podRequest("shop", deployment)
				r.Kind = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
				r.Resource = metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
				return r
			}(),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: "v1 pods only; apps/v1 Deployment",
		},
		{
			name: "a pod subresource is admitted unchanged",
			req: func() admissionv1.AdmissionRequest {
				r := podRequest("shop", []byte(`{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"name":"node-1"}}`))
				r.SubResource = "binding"
				return r
			}(),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: "(pods/binding)",
		},
		{
			name:        "a Deployment object in a pod request is a bad request",
			req:         podRequest("shop", deployment),
			wantAllowed: false, wantCode: http.StatusBadRequest, wantMessage: "the object is a apps/v1 Deployment, not a v1 Pod",
		},
		{
			name:        "an object of the wrong shape is a bad request",
			req:         podRequest("shop", []byte(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":"app"}}`)),
			wantAllowed: false, wantCode: http.StatusBadRequest, wantMessage: "decode the object as a Pod",
		},
		{
			name:        "an object that is not a JSON object is a bad request",
			req:         podRequest("shop", []byte(`["app"]`)),
			wantAllowed: false, wantCode: http.StatusBadRequest, wantMessage: "not a JSON object",
		},
		{
			name:        "an invalid annotation value is a warning and the default is used",
			req:         podRequest("shop", podJSON(map[string]string{config.AnnotationInterval: "abc"}, nil)),
			wantAllowed: true, wantCode: http.StatusOK, wantOps: "annotation-keys",
			wantWarnings: []string{`gopherscope.io/interval: "abc" is not a duration; using the default 10s`},
		},
		{
			name:        "an invalid annotation value in strict mode denies the pod",
			strict:      true,
			req:         podRequest("shop", podJSON(map[string]string{config.AnnotationInterval: "abc"}, nil)),
			wantAllowed: false, wantCode: http.StatusForbidden,
			wantMessage: `invalid gopherscope annotations (strict mode): gopherscope.io/interval: "abc" is not a duration`,
		},
		{
			name:        "a namespace that cannot be read skips injection with a warning",
			req:         podRequest("unknown", podJSON(nil, nil)),
			wantAllowed: true, wantCode: http.StatusOK, wantMessage: "namespace unknown",
			wantWarnings: []string{`gopherscope: the labels of namespace "unknown" could not be read, so the pod was created without the gopherscope sidecar`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, testConfig(func(c *config.Config) { c.Strict = tt.strict }))
			status, review := serve(t, h, reviewJSON(t, tt.req))
			resp := review.Response
			if status != http.StatusOK {
				t.Errorf("HTTP status = %d, want 200 (the verdict is in the review)", status)
			}
			if review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview" {
				t.Errorf("review type = %s %s, want admission.k8s.io/v1 AdmissionReview", review.APIVersion, review.Kind)
			}
			if resp.UID != tt.req.UID {
				t.Errorf("uid = %q, want the request's %q", resp.UID, tt.req.UID)
			}
			if resp.Allowed != tt.wantAllowed {
				t.Errorf("allowed = %v, want %v (result %+v)", resp.Allowed, tt.wantAllowed, resp.Result)
			}
			if resp.Result == nil || resp.Result.Code != tt.wantCode {
				t.Fatalf("result = %+v, want code %d", resp.Result, tt.wantCode)
			}
			if !strings.Contains(resp.Result.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", resp.Result.Message, tt.wantMessage)
			}
			if diff := cmp.Diff(tt.wantWarnings, resp.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			ops := decodePatch(t, resp.Patch)
			if tt.wantOps == "" {
				if len(ops) != 0 || resp.PatchType != nil {
					t.Errorf("patch = %s (type %v), want none", resp.Patch, resp.PatchType)
				}
				return
			}
			if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
				t.Errorf("patch type = %v, want JSONPatch", resp.PatchType)
			}
			checkInjectionPatch(t, tt.req.Object.Raw, resp.Patch, ops, tt.wantOps == "annotation-keys", tt.wantWarnings)
		})
	}
}

// checkInjectionPatch asserts that the patch is exactly the injection of
// podJSON: the added annotations (the status recording warnings), the
// sidecar-version label and the native sidecar, nothing else (not the creationTimestamp, status or unknown
// field the typed pod would drop).
func checkInjectionPatch(t *testing.T, raw, patch []byte, ops []patchOp, perKey bool, warnings []string) {
	t.Helper()
	added := maps.Clone(wantAddedAnnotations)
	if len(warnings) > 0 {
		added[config.AnnotationStatus] = strings.TrimSuffix(wantStatus, "}") + `,"warnings":` + string(mustJSON(t, warnings)) + "}"
	}
	pod, generic := applyPatch(t, raw, patch)
	if len(pod.Spec.InitContainers) != 1 {
		t.Fatalf("init containers = %d, want the sidecar alone", len(pod.Spec.InitContainers))
	}
	sidecar := pod.Spec.InitContainers[0]
	if sidecar.Name != config.SidecarContainerName || sidecar.RestartPolicy == nil || *sidecar.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Errorf("sidecar = %s with restartPolicy %v, want %s as a native sidecar", sidecar.Name, sidecar.RestartPolicy, config.SidecarContainerName)
	}
	var want []patchOp
	if perKey {
		for _, key := range []string{config.AnnotationStatus, config.AnnotationDefaultContainer,
			config.AnnotationPrometheusPath, config.AnnotationPrometheusPort, config.AnnotationPrometheusScrape} {
			want = append(want, patchOp{Op: "add", Path: "/metadata/annotations/" + strings.ReplaceAll(key, "/", "~1"), Value: added[key]})
		}
	} else {
		want = append(want, patchOp{Op: "add", Path: "/metadata/annotations", Value: toJSONValue(t, added)})
	}
	version := pod.Labels[config.LabelSidecarVersion]
	if labels := generic["metadata"].(map[string]any)["labels"].(map[string]any); len(labels) > 1 {
		want = append(want, patchOp{Op: "add", Path: "/metadata/labels/" + strings.ReplaceAll(config.LabelSidecarVersion, "/", "~1"), Value: version})
	} else {
		want = append(want, patchOp{Op: "add", Path: "/metadata/labels", Value: map[string]any{config.LabelSidecarVersion: version}})
	}
	if version != "v0.0.0-test" {
		t.Errorf("label %s = %q, want the sidecar image's tag v0.0.0-test", config.LabelSidecarVersion, version)
	}
	want = append(want, patchOp{Op: "add", Path: "/spec/initContainers", Value: toJSONValue(t, []corev1.Container{sidecar})})
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("patch operations (-want +got):\n%s", diff)
	}
	// What the user sent is all still there.
	spec := generic["spec"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"enabled": true}, spec["futureField"]); diff != "" {
		t.Errorf("the unknown field changed (-want +got):\n%s", diff)
	}
	if got := pod.Spec.Containers[0].Env; len(got) != 1 || got[0].Value != "hunter2-secret" {
		t.Errorf("app env = %+v, want it unchanged", got)
	}
}

func TestHandlerPatchIsDeterministic(t *testing.T) {
	h, _ := newTestHandler(t, testConfig(nil))
	req := podRequest("shop", podJSON(map[string]string{config.AnnotationPort: "6060,7070"}, nil))
	_, first := serve(t, h, reviewJSON(t, req))
	for i := range 20 {
		_, again := serve(t, h, reviewJSON(t, req))
		if string(again.Response.Patch) != string(first.Response.Patch) {
			t.Fatalf("request %d: patch\n%s\ndiffers from the first\n%s", i+2, again.Response.Patch, first.Response.Patch)
		}
	}
}

func TestHandlerReinvocationChangesNothing(t *testing.T) {
	h, _ := newTestHandler(t, testConfig(nil))
	req := podRequest("shop", podJSON(nil, nil))
	_, first := serve(t, h, reviewJSON(t, req))
	pod, _ := applyPatch(t, req.Object.Raw, first.Response.Patch)
	again := podRequest("shop", mustJSON(t, pod))
	_, second := serve(t, h, reviewJSON(t, again))
	if !second.Response.Allowed || len(second.Response.Patch) != 0 {
		t.Errorf("second pass: allowed %v, patch %s; want allowed with no patch", second.Response.Allowed, second.Response.Patch)
	}
	if !strings.Contains(second.Response.Result.Message, "already has") {
		t.Errorf("second pass message = %q, want already injected", second.Response.Result.Message)
	}
}

func TestHandlerRejectsMalformedReviews(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantMessage string
	}{
		{name: "invalid JSON", body: `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{`, wantMessage: "unexpected end of JSON input"},
		{name: "a review truncated inside the object", body: string(reviewJSON(t, podRequest("shop", podJSON(nil, nil))))[:200], wantMessage: "unexpected end of JSON input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newTestHandler(t, testConfig(nil))
			status, review := serve(t, h, []byte(tt.body))
			if status != http.StatusOK || review.Response.Allowed || review.Response.Result.Code != http.StatusBadRequest {
				t.Errorf("HTTP %d, allowed %v, result %+v; want 200 carrying a 400 refusal", status, review.Response.Allowed, review.Response.Result)
			}
			if !strings.Contains(review.Response.Result.Message, tt.wantMessage) {
				t.Errorf("message = %q, want it to contain %q", review.Response.Result.Message, tt.wantMessage)
			}
		})
	}
}
