//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

// TestInjection shares one control plane, chart and webhook (default
// values: failurePolicy Ignore) between subtests that each use their own
// namespaces.
func TestInjection(t *testing.T) {
	e := startEnv(t, nil)

	t.Run("the opt-in rules decide which stored pods carry the sidecar", func(t *testing.T) {
		enabledNS := e.namespace(t, "enabled", map[string]string{config.KeyInject: config.InjectEnabled})
		plainNS := e.namespace(t, "unlabelled", nil)
		podEnabled := map[string]string{config.KeyInject: config.InjectEnabled}
		podDisabled := map[string]string{config.KeyInject: config.InjectDisabled}
		tests := []struct {
			name      string
			namespace string
			labels    map[string]string
			injected  bool
		}{
			{"a pod in a namespace labelled enabled is injected", enabledNS, nil, true},
			{"a pod labelled disabled in that namespace is untouched", enabledNS, podDisabled, false},
			{"a pod in an unlabelled namespace is untouched", plainNS, nil, false},
			{"a pod labelled enabled in an unlabelled namespace is injected", plainNS, podEnabled, true},
			{"a pod labelled enabled in kube-system is untouched", "kube-system", podEnabled, false},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				pod := goPod(tt.namespace, fmt.Sprintf("web-%d", i), tt.labels, map[string]string{"team": "payments"})
				stored := e.create(t, pod)
				if tt.namespace == "kube-system" {
					t.Cleanup(func() { e.deletePod(t, stored) })
				}
				if tt.injected {
					assertInjected(t, stored, "10s")
					if stored.Annotations["team"] != "payments" {
						t.Errorf("the user's annotation team = %q, want payments", stored.Annotations["team"])
					}
				} else {
					assertUntouched(t, stored, pod)
				}
			})
		}
	})

	t.Run("an annotation opt-out is honoured by matchConditions: the webhook is never called", func(t *testing.T) {
		ns := e.namespace(t, "opt-out", map[string]string{config.KeyInject: config.InjectEnabled})
		before := e.injectionsTotal(t)
		pod := goPod(ns, "opted-out", nil, map[string]string{config.KeyInject: config.InjectAnnotationFalse})
		assertUntouched(t, e.create(t, pod), pod)
		if got := e.injectionsTotal(t); got != before {
			t.Errorf("the webhook decided on %v requests for the opted-out pod, want 0 (matchConditions should keep it away)", got-before)
		}
		// The same pod without the annotation does reach the webhook, so the
		// counter above would have seen a call.
		assertInjected(t, e.create(t, goPod(ns, "control", nil, nil)), "10s")
		if got := e.injectionsTotal(t); got != before+1 {
			t.Errorf("the webhook decided on %v requests for the control pod, want 1", got-before)
		}
	})

	t.Run("a server-side dry run returns the injected pod and stores nothing", func(t *testing.T) {
		ns := e.namespace(t, "dry-run", map[string]string{config.KeyInject: config.InjectEnabled})
		pod := goPod(ns, "dry", nil, nil)
		got, err := e.client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			t.Fatalf("dry-run create: %v", err)
		}
		assertInjected(t, got, "10s")
		_, err = e.client.CoreV1().Pods(ns).Get(t.Context(), pod.Name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("get after the dry run: err = %v, want NotFound", err)
		}
	})

	t.Run("an invalid annotation comes back as a warning and the pod is created with the default", func(t *testing.T) {
		ns := e.namespace(t, "warn", map[string]string{config.KeyInject: config.InjectEnabled})
		warnings := &warningCollector{}
		cfg := e.cluster.Config()
		cfg.WarningHandler = warnings
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		pod := goPod(ns, "bad-interval", nil, map[string]string{config.AnnotationInterval: "soon"})
		stored, err := client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		want := []string{`gopherscope.io/interval: "soon" is not a duration; using the default 10s`}
		if diff := cmp.Diff(want, warnings.texts()); diff != "" {
			t.Errorf("warnings in the API response (-want +got):\n%s", diff)
		}
		assertInjected(t, stored, "10s")
		if status, err := injector.ParseStatus(stored.Annotations[config.AnnotationStatus]); err != nil || !cmp.Equal(want, status.Warnings) {
			t.Errorf("warnings in the status annotation: %v (%v), want %q", status.Warnings, err, want)
		}
		if got := stored.Annotations[config.AnnotationInterval]; got != "soon" {
			t.Errorf("the user's annotation = %q, want it kept as written (soon)", got)
		}
	})

	t.Run("the sidecar runs behind the stored spec and serves the normalized series", func(t *testing.T) {
		testSidecarBehindStoredSpec(t, e)
	})
}

// warningCollector is a client-go warning handler that keeps the warnings.
type warningCollector struct {
	mu   sync.Mutex
	list []string
}

// HandleWarningHeader implements rest.WarningHandler.
func (w *warningCollector) HandleWarningHeader(code int, _ string, text string) {
	if code != 299 || strings.TrimSpace(text) == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warningCollector) texts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.list...)
}
