package webhook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

func TestMetricsCountDecisionsByResultAndReason(t *testing.T) {
	h, reg := newTestHandler(t, testConfig(func(c *config.Config) { c.Strict = true }))
	dryRun := true
	update := podRequest("shop", podJSON(nil, nil))
	update.Operation = admissionv1.Update
	dry := podRequest("shop", podJSON(nil, nil))
	dry.DryRun = &dryRun
	for _, req := range []admissionv1.AdmissionRequest{
		podRequest("shop", podJSON(nil, nil)),
		dry,
		podRequest("plain", podJSON(nil, nil)),
		podRequest("shop", podJSON(map[string]string{config.AnnotationInterval: "abc"}, nil)),
		podRequest("shop", []byte(`{"spec":7}`)),
		podRequest("unknown", podJSON(nil, nil)),
		update,
	} {
		h.Handle(t.Context(), admission.Request{AdmissionRequest: req})
	}

	want := map[[2]string]float64{
		{ResultInject, string(injector.ReasonInjected)}:          2,
		{ResultSkip, string(injector.ReasonNotOptedIn)}:          1,
		{ResultDeny, string(injector.ReasonInvalidAnnotations)}:  1,
		{ResultError, string(ReasonMalformed)}:                   1,
		{ResultSkip, string(ReasonNamespaceUnknown)}:             1,
		{ResultSkip, string(ReasonNotCreate)}:                    1,
		{ResultSkip, string(injector.ReasonNamespaceDisabled)}:   0,
		{ResultError, string(ReasonInternalError)}:               0,
		{ResultSkip, string(injector.ReasonAlreadyInjected)}:     0,
		{ResultSkip, string(injector.ReasonPodAnnotationOptOut)}: 0,
	}
	for labels, value := range want {
		if got := testutil.ToFloat64(h.Metrics.injections.WithLabelValues(labels[0], labels[1])); got != value {
			t.Errorf("%s{result=%q,reason=%q} = %v, want %v", MetricInjectionsTotal, labels[0], labels[1], got, value)
		}
	}
	// Every label pair the handler can produce exists from the start.
	wantSeries := len(handlerReasons) + len(injector.AllReasons())
	if got := testutil.CollectAndCount(reg, MetricInjectionsTotal); got != wantSeries {
		t.Errorf("series = %d, want %d pre-initialised", got, wantSeries)
	}
}

func TestMetricsCountInjectionsWithWarningsApartFromCleanOnes(t *testing.T) {
	h, _ := newTestHandler(t, testConfig(nil))
	for _, req := range []admissionv1.AdmissionRequest{
		podRequest("shop", podJSON(nil, nil)),
		podRequest("shop", podJSON(map[string]string{config.AnnotationInterval: "fast"}, nil)),
		podRequest("shop", podJSON(map[string]string{config.AnnotationPrometheusScrape: "false"}, nil)),
	} {
		resp := h.Handle(t.Context(), admission.Request{AdmissionRequest: req})
		if !resp.Allowed || len(resp.Patch) == 0 && len(resp.Patches) == 0 {
			t.Fatalf("request not injected: %+v", resp.Result)
		}
	}
	for _, c := range []struct {
		reason injector.Reason
		want   float64
	}{{injector.ReasonInjected, 1}, {ReasonWarnings, 2}} {
		if got := testutil.ToFloat64(h.Metrics.injections.WithLabelValues(ResultInject, string(c.reason))); got != c.want {
			t.Errorf("%s{result=%q,reason=%q} = %v, want %v", MetricInjectionsTotal, ResultInject, c.reason, got, c.want)
		}
	}
}

func TestNewMetricsReusesARegisteredCounter(t *testing.T) {
	h, reg := newTestHandler(t, testConfig(nil))
	h.Handle(t.Context(), admission.Request{AdmissionRequest: podRequest("shop", podJSON(nil, nil))})
	again, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("second NewMetrics on one registry: %v", err)
	}
	if got := testutil.ToFloat64(again.injections.WithLabelValues(ResultInject, string(injector.ReasonInjected))); got != 1 {
		t.Errorf("the second Metrics sees %v injections, want the first one's 1", got)
	}
}

func TestHandlerLogsOneLinePerDecisionWithoutSecrets(t *testing.T) {
	var lines []string
	log := funcr.NewJSON(func(obj string) { lines = append(lines, obj) }, funcr.Options{})
	h, _ := newTestHandler(t, testConfig(nil))
	dryRun := true
	req := podRequest("shop", podJSON(map[string]string{config.AnnotationInterval: "abc"}, nil))
	req.DryRun = &dryRun
	h.Handle(logf.IntoContext(t.Context(), log), admission.Request{AdmissionRequest: req})

	if len(lines) != 1 {
		t.Fatalf("log lines = %d, want 1: %q", len(lines), lines)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("decode the log line %q: %v", lines[0], err)
	}
	want := map[string]any{
		"logger": "", "level": float64(0), "msg": "admission decision",
		"namespace": "shop", "pod": "web-7d9f-", "uid": string(req.UID), "operation": "CREATE",
		"decision": "inject", "reason": "warnings", "dryRun": true, "warnings": float64(1),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log line (-want +got):\n%s", diff)
	}
	for _, secret := range []string{"hunter2", "DB_PASSWORD", "example.com/web"} {
		if strings.Contains(lines[0], secret) {
			t.Errorf("the log line holds %q from the object: %s", secret, lines[0])
		}
	}
}
