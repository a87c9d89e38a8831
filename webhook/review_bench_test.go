package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/internal/testfixture"
)

// benchNamespace is opted in, in testNamespaces.
const benchNamespace = "shop"

// allowAll is the floor of BenchmarkAdmissionReview: it admits every
// request unchanged, so serving it costs decoding the AdmissionReview and
// encoding the answer, and nothing else.
func allowAll(context.Context, admission.Request) admission.Response { return admission.Allowed("") }

// BenchmarkAdmissionReview measures one AdmissionReview through the
// webhook's HTTP handler, as bin/webhook serves it (decode the review,
// decide, diff, encode the answer), without the network: issue 5's typical
// pod (2 containers, 20 env vars), large pod (20 containers, 2,000 env
// vars, ~1 MiB) and an already-injected pod, the ones hack/loadgen sends.
// Each has a floor: the same body through an allow-all handler.
// hack/benchreport divides the two.
func BenchmarkAdmissionReview(b *testing.B) {
	injected, err := testfixture.InjectedPod(benchNamespace, testVersion)
	if err != nil {
		b.Fatal(err)
	}
	pods := []struct {
		name      string
		pod       *corev1.Pod
		wantPatch bool
	}{
		{name: "typical", pod: testfixture.TypicalPod(benchNamespace), wantPatch: true},
		{name: "large", pod: testfixture.LargePod(benchNamespace), wantPatch: true},
		{name: "injected", pod: injected, wantPatch: false},
	}
	inject := &admission.Webhook{Handler: &PodInjector{Config: NewConfigProvider(testConfig(nil)), Namespaces: testNamespaces}}
	floor := &admission.Webhook{Handler: admission.HandlerFunc(allowAll)}
	for _, p := range pods {
		body, err := testfixture.Review("6c0f5e1a-3b2d-4c8e-9a7f-000000000000", p.pod)
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range []struct {
			name      string
			handler   http.Handler
			wantPatch bool
		}{{"inject", inject, p.wantPatch}, {"floor", floor, false}} {
			b.Run(h.name+"/"+p.name, func(b *testing.B) {
				checkBenchAnswer(b, serveReview(b, h.handler, body), h.wantPatch)
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				for b.Loop() {
					serveReview(b, h.handler, body)
				}
			})
		}
	}
}

// serveReview sends body through h and returns the answer's body.
func serveReview(b *testing.B, h http.Handler, body []byte) []byte {
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// checkBenchAnswer fails unless the answer admits the pod, with a patch if
// wantPatch and without one otherwise.
func checkBenchAnswer(b *testing.B, answer []byte, wantPatch bool) {
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(answer, &review); err != nil || review.Response == nil {
		b.Fatalf("the answer is not an AdmissionReview with a response: %v", err)
	}
	if r := review.Response; !r.Allowed || (len(r.Patch) > 0) != wantPatch {
		b.Fatalf("allowed %v with a %d-byte patch, want allowed with a patch: %v", r.Allowed, len(r.Patch), wantPatch)
	}
}
