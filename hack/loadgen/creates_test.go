package loadgen

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/internal/testfixture"
)

// fakeAPIServer answers pod creates as the API server with the webhook
// would: pods of optedIn come back injected, of "broken" refused, of any
// other namespace unchanged. A create that is not a dry run fails the test.
func fakeAPIServer(t *testing.T) *fake.Clientset {
	client := fake.NewClientset()
	client.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		create := action.(k8stesting.CreateActionImpl)
		if !slices.Equal(create.CreateOptions.DryRun, []string{metav1.DryRunAll}) {
			t.Errorf("create with dryRun %q, want [All]", create.CreateOptions.DryRun)
		}
		pod := create.GetObject().(*corev1.Pod).DeepCopy()
		switch pod.Namespace {
		case optedIn:
			pod.Annotations[config.AnnotationStatus] = `{"version":"test"}`
		case "broken":
			return true, nil, apierrors.NewInternalError(errors.New("the test refuses it"))
		}
		return true, pod, nil
	})
	return client
}

func TestRunCreatesChecksEveryCreate(t *testing.T) {
	tests := []struct {
		name         string
		namespace    string
		wantInjected bool
		wantErrors   map[string]int
	}{
		{name: "pods of an opted-in namespace come back injected", namespace: optedIn, wantInjected: true},
		{name: "pods of another namespace come back unchanged", namespace: optedOut},
		{name: "a pod expected injected that is not counts as not injected", namespace: optedOut, wantInjected: true,
			wantErrors: map[string]int{ErrNotInjected: 20}},
		{name: "a pod expected unchanged that is injected counts as injected", namespace: optedIn,
			wantErrors: map[string]int{ErrInjected: 20}},
		{name: "a refused create counts as failed", namespace: "broken", wantErrors: map[string]int{ErrCreate: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := RunCreates(t.Context(), CreateOptions{
				Client: fakeAPIServer(t), Pod: testfixture.TypicalPod(tt.namespace), WantInjected: tt.wantInjected,
				Rate: 100, Duration: 200 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantErrors, res.Errors); diff != "" {
				t.Errorf("errors (-want +got):\n%s\nsamples: %q", diff, res.ErrorSamples)
			}
			if got, want := res.Requests+res.ErrorCount(), 20; got != want {
				t.Errorf("%d creates at 100/s for 200ms, want %d", got, want)
			}
		})
	}
}

func TestRunCreatesKeepsTheScheduleAndCountsFromIt(t *testing.T) {
	// An API server whose every create takes 50 ms: an open loop at 100/s
	// keeps starting creates (about five in flight), and each counts 50 ms
	// or a little more.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Query().Get("dryRun") != metav1.DryRunAll {
			http.Error(w, "want a dry-run create", http.StatusBadRequest)
			return
		}
		pod, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		time.Sleep(50 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(pod)
	}))
	defer srv.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: "application/json"}, RateLimiter: flowcontrol.NewFakeAlwaysRateLimiter()})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := RunCreates(t.Context(), CreateOptions{Client: client, Pod: testfixture.TypicalPod(optedOut), Rate: 100, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 100 || res.ErrorCount() != 0 {
		t.Fatalf("%d creates, errors %s %q; want 100 and none", res.Requests, res.ErrorSummary(), res.ErrorSamples)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("100 creates of 50 ms at 100/s took %s: the load is not an open loop", took)
	}
	if p50 := res.Quantile(0.5); p50 < 50*time.Millisecond {
		t.Errorf("p50 %s, want at least the 50 ms each create takes", p50)
	}
}

func TestRunCreatesRefusesIncompleteOptions(t *testing.T) {
	if _, err := RunCreates(t.Context(), CreateOptions{Rate: 100, Duration: time.Second}); err == nil {
		t.Error("RunCreates without a client or pod: no error")
	}
}
