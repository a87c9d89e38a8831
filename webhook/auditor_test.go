package webhook

import (
	"errors"
	"net/http"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

func TestReadinessRunsEveryCheckAndNamesTheFirstFailure(t *testing.T) {
	var ran []string
	check := func(name string, err error) healthz.Checker {
		return func(r *http.Request) error {
			if r.URL.Path != "/readyz" {
				t.Errorf("check %s got path %q, want /readyz", name, r.URL.Path)
			}
			ran = append(ran, name)
			return err
		}
	}
	ready := readiness(map[string]healthz.Checker{"webhook-server": check("webhook-server", nil), "certificate": check("certificate", nil)})
	if err := ready(t.Context()); err != nil {
		t.Errorf("all checks pass, readiness = %v", err)
	}
	if len(ran) != 2 || ran[0] != "certificate" || ran[1] != "webhook-server" {
		t.Errorf("checks ran %v, want both in name order", ran)
	}

	ran = nil
	ready = readiness(map[string]healthz.Checker{
		"webhook-server":  check("webhook-server", errors.New("webhook server is not reachable")),
		"namespace-cache": check("namespace-cache", errors.New("the namespace cache has not synced")),
	})
	err := ready(t.Context())
	if err == nil || err.Error() != "readiness check namespace-cache: the namespace cache has not synced" {
		t.Errorf("readiness = %v, want the first failing check by name", err)
	}
}
