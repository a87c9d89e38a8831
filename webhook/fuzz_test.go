package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/config"
)

// handlerSeeds are objects for both fuzz targets' corpora.
func handlerSeeds() [][]byte {
	valid := podJSON(map[string]string{config.AnnotationPort: "6060,7070", config.AnnotationContainer: "app"}, nil)
	return [][]byte{
		valid,
		valid[:len(valid)/2],
		podJSON(map[string]string{config.AnnotationInterval: "abc", config.AnnotationSidecarCPU: "-1"}, nil),
		podJSON(nil, map[string]string{config.KeyInject: config.InjectDisabled}),
		[]byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}}`),
		[]byte(`{"spec":{"containers":[{"name":"app","ports":[{"containerPort":9184}]}],"initContainers":[{"name":"gopherscope-sidecar"}]}}`),
		[]byte(`{"metadata":{"annotations":{"gopherscope.io/status":"{"}},"spec":{"containers":[{}]}}`),
		[]byte(`{}`), []byte(`null`), []byte(`[]`), []byte(`"pod"`), []byte(`{"spec":7}`), nil,
	}
}

// FuzzHandlerObject feeds arbitrary bytes as the pod of a CREATE request:
// the answer is always a complete response (allowed, denied or a 400), never
// a recovered panic, and a patch always applies to the object it was made for.
func FuzzHandlerObject(f *testing.F) {
	for _, seed := range handlerSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, _ := newTestHandler(t, testConfig(nil))
		resp := h.Handle(t.Context(), admission.Request{AdmissionRequest: podRequest("shop", raw)})
		if panics := testutil.ToFloat64(h.Metrics.injections.WithLabelValues(ResultError, string(ReasonInternalError))); panics != 0 {
			t.Fatalf("the handler failed internally: %+v", resp.Result)
		}
		if !resp.Allowed {
			if resp.Result == nil || resp.Result.Code < 400 || resp.Result.Message == "" {
				t.Fatalf("a refusal without a code and message: %+v", resp.Result)
			}
			return
		}
		if len(resp.Patch) == 0 {
			if resp.PatchType != nil || len(resp.Patches) != 0 {
				t.Fatalf("a patch type %v or %d operations without a patch", resp.PatchType, len(resp.Patches))
			}
			return
		}
		patch := resp.Patch
		if !json.Valid(patch) {
			t.Fatalf("the patch is not JSON: %s", patch)
		}
		decoded, err := jsonpatch5.DecodePatch(patch)
		if err != nil {
			t.Fatalf("decode the patch: %v", err)
		}
		out, err := decoded.Apply(raw)
		if err != nil {
			t.Fatalf("the patch does not apply to its object: %v\npatch: %s", err, patch)
		}
		var pod corev1.Pod
		if err := json.Unmarshal(out, &pod); err != nil {
			t.Fatalf("the patched object is not a pod: %v", err)
		}
	})
}

// FuzzHandlerReview feeds arbitrary bytes as the body of the HTTP request:
// the answer is always an AdmissionReview with a response, never a panic.
func FuzzHandlerReview(f *testing.F) {
	for _, seed := range handlerSeeds() {
		if json.Valid(seed) {
			req := podRequest("shop", seed)
			review, err := json.Marshal(admissionv1.AdmissionReview{Request: &req})
			if err != nil {
				f.Fatalf("encode a seed: %v", err)
			}
			review = append([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",`), review[1:]...)
			f.Add(review)
			f.Add(review[:len(review)-3])
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h, _ := newTestHandler(t, testConfig(nil))
		hook := &admission.Webhook{Handler: h}
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		hook.ServeHTTP(rec, req)
		if panics := testutil.ToFloat64(h.Metrics.injections.WithLabelValues(ResultError, string(ReasonInternalError))); panics != 0 {
			t.Fatalf("the handler failed internally on %q", body)
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil || review.Response == nil {
			t.Fatalf("the answer %q is not an AdmissionReview with a response: %v", rec.Body.Bytes(), err)
		}
		if r := review.Response; !r.Allowed && (r.Result == nil || r.Result.Code < 400) {
			t.Fatalf("a refusal without an error code: %+v", r.Result)
		}
	})
}
