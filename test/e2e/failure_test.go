//go:build e2e

package e2e

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/config"
)

// TestFailurePolicy stops the webhook process: with the default
// failurePolicy Ignore pods are still created (without the sidecar); after
// `helm upgrade --set webhook.failurePolicy=Fail` they are refused with a
// message naming the webhook; once the webhook is back they are injected.
func TestFailurePolicy(t *testing.T) {
	e := startEnv(t, nil)
	ns := e.namespace(t, "failure", map[string]string{config.KeyInject: config.InjectEnabled})
	if err := e.webhook.Stop(); err != nil {
		t.Fatalf("stop the webhook: %v", err)
	}

	t.Run("with failurePolicy Ignore a pod is created without the sidecar", func(t *testing.T) {
		pod := goPod(ns, "while-down", nil, nil)
		assertUntouched(t, e.create(t, pod), pod)
	})

	t.Run("with failurePolicy Fail creation is refused with a message naming the webhook", func(t *testing.T) {
		if err := e.release.Upgrade(t.Context(), map[string]string{"webhook.failurePolicy": "Fail"}); err != nil {
			t.Fatal(err)
		}
		mwc, err := e.release.WebhookConfiguration(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range mwc.Webhooks {
			if w.FailurePolicy == nil || string(*w.FailurePolicy) != "Fail" {
				t.Fatalf("after the upgrade webhook %s has failurePolicy %v, want Fail", w.Name, w.FailurePolicy)
			}
		}
		_, err = e.client.CoreV1().Pods(ns).Create(t.Context(), goPod(ns, "refused", nil, nil), metav1.CreateOptions{})
		if err == nil {
			t.Fatal("pod created while the webhook is down with failurePolicy Fail; want it refused")
		}
		for _, want := range []string{`failed calling webhook "namespace.inject.gopherscope.io"`, "connection refused"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error = %q, want it to contain %q", err, want)
			}
		}
	})

	t.Run("once the webhook is back pods are injected again", func(t *testing.T) {
		if err := e.webhook.Restart(t.Context()); err != nil {
			t.Fatal(err)
		}
		assertInjected(t, e.create(t, goPod(ns, "after-restart", nil, nil)), "10s")
	})
}
