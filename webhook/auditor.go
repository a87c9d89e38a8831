package webhook

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/gopherscope/gopherscope/auditor"
)

// DefaultLeaderElectionID names the Lease the replicas compete for when
// Options.LeaderElection is on.
const DefaultLeaderElectionID = "gopherscope-auditor"

// setupAuditor adds the auditor's controller to mgr: it judges pods with the
// provider's current configuration, reports into registry, and evicts
// uninjected pods (if its settings allow) only while ready says the webhook
// serves; ready also tells it since when the webhook has served.
func setupAuditor(mgr ctrl.Manager, settings auditor.Settings, provider *ConfigProvider, registry prometheus.Registerer, ready func(context.Context) error) error {
	metrics, err := auditor.NewMetrics(registry)
	if err != nil {
		return err
	}
	a, err := auditor.New(auditor.Options{
		Settings:     settings,
		Config:       provider.Load,
		Cache:        mgr.GetCache(),
		Live:         mgr.GetAPIReader(),
		Evictions:    mgr.GetClient(),
		Recorder:     mgr.GetEventRecorder(auditor.ControllerName),
		Metrics:      metrics,
		WebhookReady: ready,
	})
	if err != nil {
		return fmt.Errorf("create the auditor: %w", err)
	}
	return a.SetupWithManager(mgr)
}

// readiness runs the readiness checks, in name order, as one function: nil
// when /readyz would answer 200.
func readiness(checks map[string]healthz.Checker) func(context.Context) error {
	names := slices.Sorted(maps.Keys(checks))
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/readyz", http.NoBody)
		if err != nil {
			return fmt.Errorf("build a readiness request: %w", err)
		}
		for _, name := range names {
			if err := checks[name](req); err != nil {
				return fmt.Errorf("readiness check %s: %w", name, err)
			}
		}
		return nil
	}
}
