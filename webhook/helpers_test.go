package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/config"
)

// testVersion is the injector version the tests' configs carry.
const testVersion = "v0.0.0-test"

// testNamespaces are the namespaces the tests' handlers know.
var testNamespaces = NamespaceMap{
	"shop":        {config.KeyInject: config.InjectEnabled},
	"plain":       {},
	"off":         {config.KeyInject: config.InjectDisabled},
	"gopherscope": {config.KeyInject: config.InjectEnabled},
}

// testConfig is the default config as the server prepares it for a 1.33
// API server running in namespace gopherscope; edit modifies it first.
func testConfig(edit func(*config.Config)) *config.Config {
	cfg := config.Default(testVersion)
	if edit != nil {
		edit(cfg)
	}
	return prepareConfig(cfg, 33, Options{Namespace: "gopherscope", Version: testVersion})
}

// newTestHandler returns a handler over testNamespaces with its own registry.
func newTestHandler(t *testing.T, cfg *config.Config) (*PodInjector, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	metrics, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("NewMetrics: %v", err)
	}
	return &PodInjector{Config: NewConfigProvider(cfg), Namespaces: testNamespaces, Metrics: metrics}, reg
}

// podJSON is a pod as the API server sends it at CREATE: named by
// generateName, with the null and empty fields of a typed encoding, and a
// field this k8s.io/api does not know (a newer server's).
func podJSON(annotations, labels map[string]string) []byte {
	return podWithEnv([]any{map[string]any{"name": "DB_PASSWORD", "value": "hunter2-secret"}}, annotations, labels)
}

// podWithEnv is podJSON with the app container's env.
func podWithEnv(env []any, annotations, labels map[string]string) []byte {
	meta := map[string]any{"generateName": "web-7d9f-", "namespace": "shop", "creationTimestamp": nil}
	if annotations != nil {
		meta["annotations"] = annotations
	}
	if labels != nil {
		meta["labels"] = labels
	}
	pod := map[string]any{
		"apiVersion": "v1",
		"kind":       "Pod",
		"metadata":   meta,
		"spec": map[string]any{
			"containers": []any{map[string]any{
				"name": "app", "image": "example.com/web:1.0", "resources": map[string]any{},
				"env": env,
			}},
			"futureField": map[string]any{"enabled": true},
		},
		"status": map[string]any{},
	}
	data, err := json.Marshal(pod)
	if err != nil {
		panic(err)
	}
	return data
}

// podRequest is a CREATE request for raw in namespace ns.
func podRequest(ns string, raw []byte) admissionv1.AdmissionRequest {
	return admissionv1.AdmissionRequest{
		UID:       types.UID("0b3c2c4e-7a2e-4b8e-9d8b-2f1f0d7f1a11"),
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: ns,
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: raw},
	}
}

// reviewJSON wraps a request in an admission.k8s.io/v1 AdmissionReview.
func reviewJSON(t *testing.T, req admissionv1.AdmissionRequest) []byte {
	t.Helper()
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  &req,
	}
	data, err := json.Marshal(review)
	if err != nil {
		t.Fatalf("encode the review: %v", err)
	}
	return data
}

// serve posts body to the handler served by controller-runtime's
// admission.Webhook over HTTP and returns the HTTP status and the decoded
// response review.
func serve(t *testing.T, h admission.Handler, body []byte) (int, admissionv1.AdmissionReview) {
	t.Helper()
	srv := httptest.NewServer(&admission.Webhook{Handler: h})
	defer srv.Close()
	resp, err := http.Post(srv.URL+Path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the response: %v", err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &review); err != nil {
		t.Fatalf("decode the response %q: %v", data, err)
	}
	if review.Response == nil {
		t.Fatalf("the response review has no response: %s", data)
	}
	return resp.StatusCode, review
}

// patchOp is a decoded JSON patch operation, its value as generic JSON.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// decodePatch decodes a response's patch ("" for none).
func decodePatch(t *testing.T, patch []byte) []patchOp {
	t.Helper()
	if len(patch) == 0 {
		return nil
	}
	var ops []patchOp
	if err := json.Unmarshal(patch, &ops); err != nil {
		t.Fatalf("decode the patch %s: %v", patch, err)
	}
	return ops
}

// applyPatch applies a response's patch to raw and decodes the result as a
// pod and as generic JSON, as the API server would.
func applyPatch(t *testing.T, raw, patch []byte) (*corev1.Pod, map[string]any) {
	t.Helper()
	p, err := jsonpatch5.DecodePatch(patch)
	if err != nil {
		t.Fatalf("decode the patch: %v", err)
	}
	out, err := p.Apply(raw)
	if err != nil {
		t.Fatalf("apply the patch: %v", err)
	}
	pod := &corev1.Pod{}
	if err := json.Unmarshal(out, pod); err != nil {
		t.Fatalf("decode the patched pod: %v", err)
	}
	var generic map[string]any
	if err := json.Unmarshal(out, &generic); err != nil {
		t.Fatalf("decode the patched pod: %v", err)
	}
	return pod, generic
}

// toJSONValue turns a typed value into what decoding its JSON gives.
func toJSONValue(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return out
}

// mustJSON encodes v.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return data
}
