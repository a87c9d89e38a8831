package auditor

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gopherscope/gopherscope/config"
)

// configResync sends an event for every cached pod when the injection
// configuration changes (a hot reload may exclude a namespace, allow host
// networking, turn strict mode on), so every verdict is made again under the
// new rules. A reload stores a new configuration value, never modifies the
// old one, so comparing pointers is enough.
type configResync struct {
	config   func() *config.Config
	cache    client.Reader
	events   chan event.GenericEvent
	interval time.Duration
}

// Start polls the configuration until ctx ends.
func (r *configResync) Start(ctx context.Context) error {
	last := r.config()
	tick := time.NewTicker(r.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		current := r.config()
		if current == last {
			continue
		}
		last = current
		if err := r.sendAll(ctx); err != nil {
			// The pods keep their verdicts until their next event or period.
			logf.FromContext(ctx).Error(err, "judge the pods again under the new configuration")
		}
	}
}

// sendAll sends an event for every cached pod.
func (r *configResync) sendAll(ctx context.Context) error {
	pods := podMetadataList()
	if err := r.cache.List(ctx, pods); err != nil {
		return fmt.Errorf("list the cached pods after a configuration change: %w", err)
	}
	for i := range pods.Items {
		select {
		case r.events <- event.GenericEvent{Object: &pods.Items[i]}:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// NeedLeaderElection runs the resync with the controller it feeds: on the
// elected replica only.
func (*configResync) NeedLeaderElection() bool { return true }
