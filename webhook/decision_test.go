package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/injector"
)

// skippedPod is a pod of the opted-in namespace "shop" with its spec
// edited, as the API server sends it.
func skippedPod(t *testing.T, edit func(spec map[string]any)) []byte {
	t.Helper()
	var pod map[string]any
	if err := json.Unmarshal(podJSON(nil, nil), &pod); err != nil {
		t.Fatal(err)
	}
	edit(pod["spec"].(map[string]any))
	return mustJSON(t, pod)
}

// failingLimitRanges is a LimitRangeLookup that cannot read anything.
type failingLimitRanges struct{}

func (failingLimitRanges) LimitRanges(context.Context, string) ([]corev1.LimitRange, error) {
	return nil, errors.New("the cache is not synced")
}

// TestSkipReasonsReachTheMetricTheLogLineAndAWarning checks, for each skip
// reason about the pod and its namespace, the three places a person looks: the
// counter gopherscope_injections_total{result="skip",reason}, the
// decision's log line, and a warning for kubectl.
func TestSkipReasonsReachTheMetricTheLogLineAndAWarning(t *testing.T) {
	small := LimitRangeMap{"shop": {{
		ObjectMeta: metav1.ObjectMeta{Name: "small"},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")},
		}}},
	}}}
	tests := []struct {
		name        string
		raw         []byte
		limitRanges LimitRangeLookup
		wantReason  injector.Reason
		wantWarning string
	}{
		{
			name:        "a pod for Windows nodes (spec.os.name) is skipped as windows",
			raw:         skippedPod(t, func(spec map[string]any) { spec["os"] = map[string]any{"name": "windows"} }),
			wantReason:  injector.ReasonWindows,
			wantWarning: "the pod runs on Windows (its spec.os.name is windows): gopherscope does not inject it",
		},
		{
			name:        "a pod selecting Windows nodes (nodeSelector) is skipped as windows",
			raw:         skippedPod(t, func(spec map[string]any) { spec["nodeSelector"] = map[string]any{"kubernetes.io/os": "windows"} }),
			wantReason:  injector.ReasonWindows,
			wantWarning: "the pod runs on Windows (its nodeSelector kubernetes.io/os is windows)",
		},
		{
			name:        "a pod the namespace's LimitRange would refuse with the sidecar is skipped as resources",
			raw:         podJSON(nil, nil),
			limitRanges: small,
			wantReason:  injector.ReasonResources,
			wantWarning: `the sidecar's memory limit 64Mi is above the maximum 32Mi per container of LimitRange "small": gopherscope does not inject the pod`,
		},
		{
			name:        "a pod whose namespace's LimitRanges cannot be read is admitted unchanged",
			raw:         podJSON(nil, nil),
			limitRanges: failingLimitRanges{},
			wantReason:  ReasonLimitRangesUnknown,
			wantWarning: `gopherscope: the LimitRanges of namespace "shop" could not be read, so the pod was created without the gopherscope sidecar`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []string
			log := funcr.NewJSON(func(obj string) { lines = append(lines, obj) }, funcr.Options{})
			h, _ := newTestHandler(t, testConfig(nil))
			h.LimitRanges = tt.limitRanges
			resp := h.Handle(logf.IntoContext(t.Context(), log), admission.Request{AdmissionRequest: podRequest("shop", tt.raw)})

			if !resp.Allowed || len(resp.Patch) != 0 || len(resp.Patches) != 0 {
				t.Errorf("allowed = %v with patch %q, want the pod admitted unchanged", resp.Allowed, resp.Patch)
			}
			if got := testutil.ToFloat64(h.Metrics.injections.WithLabelValues(ResultSkip, string(tt.wantReason))); got != 1 {
				t.Errorf("%s{result=skip,reason=%s} = %v, want 1", MetricInjectionsTotal, tt.wantReason, got)
			}
			if len(lines) != 1 {
				t.Fatalf("log lines = %d, want 1: %q", len(lines), lines)
			}
			var line map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
				t.Fatalf("decode the log line %q: %v", lines[0], err)
			}
			if line["decision"] != ResultSkip || line["reason"] != string(tt.wantReason) {
				t.Errorf("log line decision=%v reason=%v, want skip %s: %s", line["decision"], line["reason"], tt.wantReason, lines[0])
			}
			if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], tt.wantWarning) {
				t.Errorf("warnings = %q, want one containing %q", resp.Warnings, tt.wantWarning)
			}
		})
	}
}
