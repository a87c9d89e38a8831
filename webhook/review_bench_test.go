package webhook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/hack/loadgen"
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
// vars, ~1 MiB) and an already-injected pod. Each has a floor: the same
// body through an allow-all handler. hack/benchreport divides the two.
func BenchmarkAdmissionReview(b *testing.B) {
	injected, err := loadgen.InjectedPod(benchNamespace, testVersion)
	if err != nil {
		b.Fatal(err)
	}
	pods := []struct {
		name      string
		pod       *corev1.Pod
		wantPatch bool
	}{
		{name: "typical", pod: loadgen.TypicalPod(benchNamespace), wantPatch: true},
		{name: "large", pod: loadgen.LargePod(benchNamespace), wantPatch: true},
		{name: "injected", pod: injected, wantPatch: false},
	}
	inject := &admission.Webhook{Handler: &PodInjector{Config: NewConfigProvider(testConfig(nil)), Namespaces: testNamespaces}}
	floor := &admission.Webhook{Handler: admission.HandlerFunc(allowAll)}
	for _, p := range pods {
		reqs, err := loadgen.Requests(p.name, p.pod, p.wantPatch)
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range []struct {
			name      string
			handler   http.Handler
			wantPatch bool
		}{{"inject", inject, p.wantPatch}, {"floor", floor, false}} {
			b.Run(h.name+"/"+p.name, func(b *testing.B) {
				r := reqs[0]
				r.WantPatch = h.wantPatch
				if _, err := loadgen.CheckAnswer(r, serveReview(b, h.handler, r)); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(r.Body)))
				b.ReportAllocs()
				for b.Loop() {
					serveReview(b, h.handler, r)
				}
			})
		}
	}
}

// serveReview sends r through h and returns the answer's body.
func serveReview(b *testing.B, h http.Handler, r loadgen.Request) []byte {
	req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(r.Body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}
