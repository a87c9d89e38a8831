package loadgen

import (
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/internal/testfixture"
	"github.com/gopherscope/gopherscope/webhook"
)

const (
	testVersion     = "v0.0.0-loadgen"
	optedIn         = "bench-inject"
	optedOut        = "bench-floor"
	testRunDuration = 400 * time.Millisecond
)

func TestMain(m *testing.M) {
	logf.SetLogger(logr.Discard()) // admission.Webhook's own logs
	os.Exit(m.Run())
}

// webhookServer serves the real pod injector over TLS, as bin/webhook does,
// with one namespace opted in and one opted out.
func webhookServer(t *testing.T) Target {
	t.Helper()
	cfg := config.Default(testVersion)
	cfg.InjectorVersion = testVersion
	handler := &admission.Webhook{Handler: &webhook.PodInjector{
		Config: webhook.NewConfigProvider(cfg),
		Namespaces: webhook.NamespaceMap{
			optedIn:  {config.KeyInject: config.InjectEnabled},
			optedOut: {config.KeyInject: config.InjectDisabled},
		},
	}}
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	return Target{URL: srv.URL + webhook.Path, RootCAs: pool(srv.Certificate())}
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func mustRequests(t *testing.T, name string, pod *corev1.Pod, wantPatch bool) []Request {
	t.Helper()
	reqs, err := Requests(name, pod, wantPatch)
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

func TestRunCountsCorrectAndWrongAnswers(t *testing.T) {
	target := webhookServer(t)
	injected, err := testfixture.InjectedPod(optedIn, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		requests   []Request
		wantErrors []string // kinds; every answer is of this kind
	}{
		{name: "a typical pod in an opted-in namespace is injected", requests: mustRequests(t, "typical", testfixture.TypicalPod(optedIn), true)},
		{name: "a typical pod in an opted-out namespace is left alone", requests: mustRequests(t, "floor", testfixture.TypicalPod(optedOut), false)},
		{name: "an injected pod is left alone", requests: mustRequests(t, "injected", injected, false)},
		{name: "expecting a patch for an opted-out pod counts every answer as missing one",
			requests: mustRequests(t, "floor", testfixture.TypicalPod(optedOut), true), wantErrors: []string{ErrMissingPatch}},
		{name: "expecting no patch for an opted-in pod counts every answer as an unexpected one",
			requests: mustRequests(t, "typical", testfixture.TypicalPod(optedIn), false), wantErrors: []string{ErrUnexpectedPatch}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(t.Context(), Options{Target: target, Requests: tt.requests, Connections: 2, Duration: testRunDuration})
			if err != nil {
				t.Fatal(err)
			}
			total := res.Requests + res.ErrorCount()
			if total < 10 {
				t.Fatalf("only %d requests in %s: %s", total, testRunDuration, res)
			}
			if len(tt.wantErrors) == 0 {
				if res.ErrorCount() != 0 {
					t.Fatalf("errors %s, want none; first: %q", res.ErrorSummary(), res.ErrorSamples)
				}
				if res.Quantile(0.5) <= 0 || res.Quantile(0.5) > res.Quantile(1) {
					t.Errorf("p50 %s, max %s: want 0 < p50 <= max", res.Quantile(0.5), res.Quantile(1))
				}
				return
			}
			if res.Requests != 0 || res.Errors[tt.wantErrors[0]] != total {
				t.Errorf("%d correct answers, errors %s; want all %d to be %s", res.Requests, res.ErrorSummary(), total, tt.wantErrors[0])
			}
		})
	}
}

func TestRunOpenLoopKeepsTheRate(t *testing.T) {
	target := webhookServer(t)
	res, err := Run(t.Context(), Options{
		Target: target, Requests: mustRequests(t, "typical", testfixture.TypicalPod(optedIn), true),
		Connections: 4, Rate: 200, Duration: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ErrorCount() != 0 {
		t.Fatalf("errors %s: %q", res.ErrorSummary(), res.ErrorSamples)
	}
	// 200/s for one second schedules exactly 200 requests.
	if res.Requests != 200 {
		t.Errorf("%d answers at 200/s for 1s, want 200", res.Requests)
	}
	if res.Handshakes != 4 {
		t.Errorf("%d handshakes on 4 keep-alive connections, want 4", res.Handshakes)
	}
}

func TestRunReconnectsShakeHandsAgain(t *testing.T) {
	target := webhookServer(t)
	res, err := Run(t.Context(), Options{
		Target: target, Requests: mustRequests(t, "floor", testfixture.TypicalPod(optedOut), false),
		Connections: 2, Rate: 100, Duration: time.Second, Reconnect: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ErrorCount() != 0 {
		t.Fatalf("errors %s: %q", res.ErrorSummary(), res.ErrorSamples)
	}
	// Each connection closes about every 100 ms: about 20 handshakes.
	if res.Handshakes < 10 {
		t.Errorf("%d handshakes in 1s reconnecting every 100ms on 2 connections, want at least 10", res.Handshakes)
	}
	if len(res.Certificates) != 1 || res.Certificates[0].Handshakes != res.Handshakes {
		t.Errorf("certificates %+v, want the server's one on all %d handshakes", res.Certificates, res.Handshakes)
	}
}

func TestRunCountsServerFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{name: "a 500 is an HTTP status error", want: ErrStatus,
			handler: func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }},
		{name: "a body that is not a review is a decode error", want: ErrDecode,
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }},
		{name: "an answer about another request is a uid mismatch", want: ErrUID,
			handler: func(w http.ResponseWriter, _ *http.Request) {
				_ = json.NewEncoder(w).Encode(map[string]any{"response": map[string]any{"uid": "other", "allowed": true}})
			}},
		{name: "a refusal is a denial", want: ErrDenied,
			handler: func(w http.ResponseWriter, r *http.Request) {
				var review map[string]map[string]any
				_ = json.NewDecoder(r.Body).Decode(&review)
				_ = json.NewEncoder(w).Encode(map[string]any{"response": map[string]any{"uid": review["request"]["uid"], "allowed": false}})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(tt.handler)
			defer srv.Close()
			res, err := Run(t.Context(), Options{
				Target:   Target{URL: srv.URL, RootCAs: pool(srv.Certificate())},
				Requests: mustRequests(t, "floor", testfixture.TypicalPod(optedOut), false), Connections: 1, Rate: 50, Duration: 200 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(map[string]int{tt.want: 10}, res.Errors); diff != "" || res.Requests != 0 {
				t.Errorf("%d correct answers; errors (-want +got):\n%s", res.Requests, diff)
			}
		})
	}
}

func TestRunRefusesAnUntrustedServer(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	res, err := Run(t.Context(), Options{
		Target:   Target{URL: srv.URL, RootCAs: x509.NewCertPool()},
		Requests: mustRequests(t, "floor", testfixture.TypicalPod(optedOut), false), Connections: 1, Rate: 20, Duration: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors[ErrTransport] != 2 || res.Handshakes != 0 {
		t.Errorf("errors %s, %d handshakes; want 2 transport errors and no verified handshake", res.ErrorSummary(), res.Handshakes)
	}
}

func TestOptionsValidate(t *testing.T) {
	err := (&Options{Connections: 0, Rate: -1}).Validate()
	want := "no target URL\nno requests to send\nconnections: 0, want at least 1\nrate: -1, want 0 (closed loop) or more\nduration: 0s, want more than 0"
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want\n%s", err, want)
	}
}

func TestQuantileIsTheNearestRank(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	res := &Result{}
	for i := 1; i <= 1000; i++ {
		res.Latencies = append(res.Latencies, ms(i))
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0, ms(1)}, {0.5, ms(500)}, {0.99, ms(990)}, {0.999, ms(999)}, {1, ms(1000)}}
	for _, tt := range tests {
		if got := res.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%g) = %s, want %s", tt.q, got, tt.want)
		}
	}
	if got := (&Result{}).Quantile(0.99); got != 0 {
		t.Errorf("Quantile of no answers = %s, want 0", got)
	}
}

func TestAnswerPatchDecodesTheJSONPatch(t *testing.T) {
	target := webhookServer(t)
	reqs := mustRequests(t, "typical", testfixture.TypicalPod(optedIn), true)
	client := NewClient(target, nil)
	defer client.Close()
	ans, err := client.Send(t.Context(), reqs[0], false)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := ans.Patch()
	if err != nil {
		t.Fatal(err)
	}
	var ops []map[string]any
	if err := json.Unmarshal(patch, &ops); err != nil || len(ops) == 0 {
		t.Fatalf("patch %q: %v; want a JSON patch", patch, err)
	}
	if !strings.Contains(string(patch), `"--interval=10s"`) {
		t.Errorf("patch does not carry the sidecar's default interval:\n%s", patch)
	}
}

func TestCombineAddsRoundsUp(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	a := &Result{Rate: 500, Connections: 8, Duration: time.Second, Elapsed: time.Second, Requests: 2, Latencies: []time.Duration{ms(1), ms(3)},
		PerSecond: []int{2}, Handshakes: 8, Certificates: []CertificateSeen{{Serial: "1", Handshakes: 8}}}
	b := &Result{Rate: 500, Connections: 8, Duration: time.Second, Elapsed: 2 * time.Second, Requests: 1, Latencies: []time.Duration{ms(2)},
		PerSecond: []int{1}, Errors: map[string]int{ErrStatus: 1}, ErrorSamples: []string{"boom"}, Handshakes: 8,
		Certificates: []CertificateSeen{{Serial: "1", Handshakes: 6}, {Serial: "2", Handshakes: 2}}}
	want := &Result{Rate: 500, Connections: 8, Duration: 2 * time.Second, Elapsed: 3 * time.Second, Requests: 3,
		Latencies: []time.Duration{ms(1), ms(2), ms(3)}, PerSecond: []int{2, 1}, Errors: map[string]int{ErrStatus: 1},
		ErrorSamples: []string{"boom"}, Handshakes: 16, Certificates: []CertificateSeen{{Serial: "1", Handshakes: 14}, {Serial: "2", Handshakes: 2}}}
	got := Combine(a, b)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Combine (-want +got):\n%s", diff)
	}
	if got.Throughput() != 1 {
		t.Errorf("throughput %g, want 3 answers / 3 s = 1", got.Throughput())
	}
}
