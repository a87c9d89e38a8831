package webhook

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// The bad-input catalogue, review level: bodies that are not a well-formed
// AdmissionReview about a pod, posted over HTTP to the real handler behind
// controller-runtime's admission.Webhook. Each gets a clear refusal or an
// unchanged admission; none gets a patch, none a recovered panic.

// postRaw posts body with the given content type to the handler and returns
// the HTTP status and the decoded review.
func postRaw(t *testing.T, h admission.Handler, contentType string, body []byte) (int, admissionv1.AdmissionReview) {
	t.Helper()
	srv := httptest.NewServer(&admission.Webhook{Handler: h})
	defer srv.Close()
	resp, err := http.Post(srv.URL+Path, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the response: %v", err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &review); err != nil || review.Response == nil {
		t.Fatalf("the answer %q is not an AdmissionReview with a response: %v", data, err)
	}
	return resp.StatusCode, review
}

// withObject is a CREATE pod request in namespace shop carrying raw as its
// object, verbatim (encoding/json would refuse to encode some of them).
func withObject(raw string) []byte {
	return []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{` +
		`"uid":"0b3c2c4e-7a2e-4b8e-9d8b-2f1f0d7f1a11","kind":{"group":"","version":"v1","kind":"Pod"},` +
		`"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"shop","operation":"CREATE",` +
		`"userInfo":{},"object":` + raw + `}}`)
}

func TestBadReviewsAreRefusedClearly(t *testing.T) {
	valid := reviewJSON(t, podRequest("shop", podJSON(nil, nil)))
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	tests := []struct {
		name        string
		contentType string
		body        []byte
		// wantCode is the result code; 200 means allowed unchanged.
		wantCode int32
		// wantMessage are fragments of the result's message.
		wantMessage []string
		// wantReason is the handler's metric reason, "" when the request
		// never reached the handler (refused while decoding the review).
		wantReason string
	}{
		{name: "an empty body", body: nil, wantCode: 400, wantMessage: []string{"request body is empty"}},
		{name: "a YAML body", body: []byte("kind: AdmissionReview\n"), wantCode: 400, wantMessage: []string{"carries no request"}, wantReason: string(ReasonMalformed)},
		{name: "the JSON null", body: []byte("null"), wantCode: 400, wantMessage: []string{"carries no request"}, wantReason: string(ReasonMalformed)},
		{name: "a review cut after its first byte", body: valid[:1], wantCode: 400, wantMessage: []string{"unexpected end of JSON input"}},
		{name: "a review cut in the middle of the pod", body: valid[:len(valid)/2], wantCode: 400, wantMessage: []string{"unexpected end of JSON input"}},
		{name: "a review cut before its last brace", body: valid[:len(valid)-1], wantCode: 400, wantMessage: []string{"unexpected end of JSON input"}},
		{name: "a valid review sent as text/plain", contentType: "text/plain", body: valid, wantCode: 400,
			wantMessage: []string{"contentType=text/plain, expected application/json"}},
		{name: "a Pod posted instead of a review", body: podJSON(nil, nil), wantCode: 400, wantMessage: []string{"carries no request"}, wantReason: string(ReasonMalformed)},
		{name: "a body that is not JSON", body: []byte(`{"apiVersion":"admission.k8s.io/v1",kind}`), wantCode: 400, wantMessage: []string{"invalid character 'k'"}},
		{name: "a review of an unknown version", body: []byte(`{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"1"}}`),
			wantCode: 400, wantMessage: []string{"carries no request"}, wantReason: string(ReasonMalformed)},
		{name: "a review nested ten thousand levels deep", body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":` + deep + `}`),
			wantCode: 400, wantMessage: []string{"exceeded max depth"}},
		{name: "a body over controller-runtime's 7 MiB limit", body: append(append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), 7<<20)...), `"}`...),
			wantCode: 413, wantMessage: []string{"request entity is too large; limit is 7340032 bytes"}},
		{name: "a review without a request", body: []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`),
			wantCode: 400, wantMessage: []string{"the AdmissionReview carries no request"}, wantReason: string(ReasonMalformed)},
		{name: "a pod request without an object", body: reviewJSON(t, podRequest("shop", nil)), wantCode: 400, wantMessage: []string{"the request's object is not a JSON object"}, wantReason: string(ReasonMalformed)},
		{name: "a pod request whose object is a string", body: withObject(`"a pod"`), wantCode: 400,
			wantMessage: []string{"the request's object is not a JSON object"}, wantReason: string(ReasonMalformed)},
		{name: "a pod request whose object is a Service", body: withObject(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"}}`),
			wantCode: 400, wantMessage: []string{"the object is a v1 Service, not a v1 Pod"}, wantReason: string(ReasonMalformed)},
		{name: "a pod of a version that does not exist", body: withObject(`{"apiVersion":"v2","kind":"Pod","spec":{"containers":[{"name":"app"}]}}`),
			wantCode: 400, wantMessage: []string{"the object is a v2 Pod, not a v1 Pod"}, wantReason: string(ReasonMalformed)},
		{name: "metadata of the wrong type", body: withObject(`{"apiVersion":"v1","kind":"Pod","metadata":"web","spec":{"containers":[{"name":"app"}]}}`),
			wantCode: 400, wantMessage: []string{"decode the object as a Pod", "metadata"}, wantReason: string(ReasonMalformed)},
		{name: "annotations that are not strings", body: withObject(`{"metadata":{"annotations":{"gopherscope.io/port":6060}},"spec":{"containers":[{"name":"app"}]}}`),
			wantCode: 400, wantMessage: []string{"decode the object as a Pod", "annotations"}, wantReason: string(ReasonMalformed)},
		{name: "a container port of 1e400", body: withObject(`{"spec":{"containers":[{"name":"app","ports":[{"containerPort":1e400}]}]}}`),
			wantCode: 400, wantMessage: []string{"decode the object as a Pod", "1e400"}, wantReason: string(ReasonMalformed)},
		{name: "a pod nested ten thousand levels deep in an unknown field", body: withObject(`{"spec":{"containers":[{"name":"app"}],"x":` + deep + `}}`),
			wantCode: 400, wantMessage: []string{"exceeded max depth"}},
		{name: "a pod without containers", body: withObject(`{"metadata":{"name":"web"},"spec":{"containers":[]}}`),
			wantCode: 200, wantMessage: []string{"the pod has no container to observe"}, wantReason: "no-containers"},
		{name: "a pod without spec", body: withObject(`{"metadata":{"name":"web"}}`),
			wantCode: 200, wantMessage: []string{"the pod has no container to observe"}, wantReason: "no-containers"},
		{name: "an UPDATE without any object", body: reviewJSON(t, func() admissionv1.AdmissionRequest {
			r := podRequest("shop", nil)
			r.Operation = admissionv1.Update
			return r
		}()), wantCode: 200, wantMessage: []string{"CREATE only; UPDATE is admitted unchanged"}, wantReason: string(ReasonNotCreate)},
		{name: "a request about namespaces", body: reviewJSON(t, func() admissionv1.AdmissionRequest {
			r := podRequest("", []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}`))
			r.Kind.Kind, r.Resource.Resource = "Namespace", "namespaces"
			return r
		}()), wantCode: 200, wantMessage: []string{"v1 pods only; Namespace"}, wantReason: string(ReasonNotAPod)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, reg := newTestHandler(t, testConfig(nil))
			status, review := postRaw(t, h, cmp.Or(tt.contentType, "application/json"), tt.body)
			resp := review.Response
			if status != http.StatusOK {
				t.Errorf("HTTP status = %d, want 200 (the verdict is in the review)", status)
			}
			if resp.Result == nil || resp.Result.Code != tt.wantCode {
				t.Fatalf("result = %+v, want code %d", resp.Result, tt.wantCode)
			}
			if wantAllowed := tt.wantCode == 200; resp.Allowed != wantAllowed {
				t.Errorf("allowed = %v, want %v", resp.Allowed, wantAllowed)
			}
			for _, want := range tt.wantMessage {
				if !strings.Contains(resp.Result.Message, want) {
					t.Errorf("message = %.300q, want it to contain %q", resp.Result.Message, want)
				}
			}
			if len(resp.Result.Message) > 1024 {
				t.Errorf("the message is %d bytes long; a refusal must not echo the body", len(resp.Result.Message))
			}
			if len(resp.Patch) != 0 || resp.PatchType != nil {
				t.Errorf("patch = %s, want none", resp.Patch)
			}
			checkDecisions(t, reg, tt.wantReason)
		})
	}
}

// checkDecisions asserts that the handler counted exactly one decision with
// reason (or none when reason is ""), and never an internal error.
func checkDecisions(t *testing.T, reg *prometheus.Registry, reason string) {
	t.Helper()
	counts := decisionCounts(t, reg)
	if counts[string(ReasonInternalError)] != 0 {
		t.Errorf("the handler failed internally: %v", counts)
	}
	want := map[string]float64{}
	if reason != "" {
		want[reason] = 1
	}
	for r, n := range counts {
		if n != want[r] {
			t.Errorf("decisions with reason %s = %v, want %v (all: %v)", r, n, want[r], counts)
		}
	}
	for r, n := range want {
		if counts[r] != n {
			t.Errorf("decisions with reason %s = %v, want %v (all: %v)", r, counts[r], n, counts)
		}
	}
}

// decisionCounts reads gopherscope_injections_total from reg: reason -> count.
func decisionCounts(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	counts := map[string]float64{}
	for _, f := range families {
		if f.GetName() != MetricInjectionsTotal {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" {
					counts[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
	return counts
}
