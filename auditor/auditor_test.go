package auditor

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/gopherscope/gopherscope/config"
)

func TestNewReportsEveryMissingOption(t *testing.T) {
	_, err := New(Options{Settings: Settings{Period: time.Millisecond, RolloutRestart: true, RestartCooldown: -time.Second}})
	if err == nil {
		t.Fatal("New accepted empty options")
	}
	want := []string{
		"period 1ms is shorter than 1s",
		"restart cool-down -1s is negative",
		"auditor option Config is missing",
		"auditor option Cache is missing",
		"auditor option Live is missing",
		"auditor option Evictions is missing",
		"auditor option Recorder is missing",
		"auditor option Metrics is missing",
		"auditor option WebhookReady is missing",
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestNewMetricsReusesTheRegisteredGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	first, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("second registration: %v", err)
	}
	second.setUninjected("shop", 3)
	if got := testutil.ToFloat64(first.uninjected.WithLabelValues("shop")); got != 3 {
		t.Errorf("the first gauge reads %v after the second set 3: not the same gauge", got)
	}
	other := prometheus.NewRegistry()
	// The same name, help and labels, but a counter.
	other.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricUninjectedPods, Help: helpOf(t, reg)}, []string{"namespace"}))
	if _, err := NewMetrics(other); err == nil || !strings.Contains(err.Error(), "a different collector has that name") {
		t.Errorf("error = %v, want a clash with a different collector", err)
	}
}

func TestPodsOfNamespaceAreQueuedWhenItsLabelChanges(t *testing.T) {
	w := newWorld(t, DefaultSettings(), namespace("shop", enabled), namespace("other", nil),
		pod("shop", "a", nil), pod("shop", "b", nil), pod("other", "c", nil))
	got := w.auditor.podsOfNamespace(t.Context(), namespace("shop", enabled))
	names := make([]string, 0, len(got))
	for _, r := range got {
		names = append(names, r.String())
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"shop/a", "shop/b"}, names); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestANewConfigurationSendsEveryPodAgain(t *testing.T) {
	w := newWorld(t, DefaultSettings(), namespace("shop", enabled), namespace("other", nil),
		pod("shop", "a", nil), pod("other", "b", nil))
	var current atomicConfig
	current.set(w.cfg)
	r := &configResync{config: current.get, cache: w.client, events: make(chan event.GenericEvent), interval: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Start(ctx) }()

	select {
	case e := <-r.events:
		t.Fatalf("event %s/%s without a configuration change", e.Object.GetNamespace(), e.Object.GetName())
	case <-time.After(100 * time.Millisecond):
	}
	current.set(w.cfg.DeepCopy())
	var names []string
	for len(names) < 2 {
		select {
		case e := <-r.events:
			names = append(names, client.ObjectKeyFromObject(e.Object).String())
		case <-time.After(5 * time.Second):
			t.Fatalf("after a configuration change only %v were sent", names)
		}
	}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"other/b", "shop/a"}, names); diff != "" {
		t.Errorf("pods sent (-want +got):\n%s", diff)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start returned %v, want nil when its context ends", err)
	}
}

func TestSettings(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Errorf("the defaults are invalid: %v", err)
	}
	if d := DefaultSettings(); d.RolloutRestart || d.Period != 5*time.Minute || d.RestartCooldown != time.Hour {
		t.Errorf("defaults = %+v, want a 5m period, a 1h cool-down and no restarts", d)
	}
}

func TestReconcileOfAnUnknownPodDoesNothing(t *testing.T) {
	w := newWorld(t, DefaultSettings(), namespace("shop", enabled))
	if res := w.reconcile(t, "shop/nobody")[0]; res != (ctrl.Result{}) {
		t.Errorf("result %+v", res)
	}
	w.assertGauge(t, "")
	if got := w.events.take(); len(got) != 0 {
		t.Errorf("events %+v", got)
	}
}

// atomicConfig is a configuration pointer read by one goroutine and
// replaced by another, as the webhook's ConfigProvider is.
type atomicConfig struct{ p atomic.Pointer[config.Config] }

func (a *atomicConfig) get() *config.Config    { return a.p.Load() }
func (a *atomicConfig) set(cfg *config.Config) { a.p.Store(cfg) }
