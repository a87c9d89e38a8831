package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// rssGrowthSlack is how much the webhook's RSS peak in the second half of a
// scenario may exceed the first half's before memory counts as unbounded:
// 10% plus 4 MiB of garbage-collector sawtooth.
const (
	rssGrowthFactor = 1.10
	rssGrowthSlack  = 4 << 20
)

// scenario is one soak: load, and something happening to the webhook meanwhile.
type scenario struct {
	// about says what the scenario does.
	about string
	// reconnect re-dials connections during the load.
	reconnect bool
	// disturbance returns what happens during the load; nil for steady load.
	disturbance func(w *rig.Webhook, opts *options) disturbance
}

// disturbance acts on the webhook while the load runs and then checks
// what it saw.
type disturbance interface {
	// run acts until ctx ends.
	run(ctx context.Context)
	// checks judges the run.
	checks(res *loadgen.Result) []check
}

// scenarios are the soak's scenarios by name.
var scenarios = map[string]scenario{
	"steady": {about: "steady load"},
	"rotation": {about: "load while the serving certificate is rotated", reconnect: true,
		disturbance: func(w *rig.Webhook, opts *options) disturbance { return &rotation{webhook: w, every: opts.RotateEvery} }},
	"config": {about: "load while the config file is rewritten, valid and invalid",
		disturbance: func(w *rig.Webhook, opts *options) disturbance {
			return &configChurn{webhook: w, every: opts.ConfigEvery}
		}},
}

// check is one verdict.
type check struct {
	what   string
	ok     bool
	detail string
}

// outcome is what one scenario held.
type outcome struct {
	name   string
	result *loadgen.Result
	memory rig.Span
	checks []check
}

// runScenario runs the named scenario at rate.
func runScenario(ctx context.Context, name string, w *rig.Webhook, requests []loadgen.Request, rate float64, opts *options) (*outcome, error) {
	sc := scenarios[name]
	lopts := loadgen.Options{Target: w.Target(), Requests: requests, Connections: opts.Connections, Rate: rate, Duration: opts.Duration}
	if sc.reconnect {
		lopts.Reconnect = opts.Reconnect
	}
	monitor, err := rig.StartMonitor(w.Pid(), time.Second)
	if err != nil {
		return nil, err
	}
	var d disturbance
	var wg sync.WaitGroup
	dctx, stop := context.WithTimeout(ctx, opts.Duration)
	defer stop()
	if sc.disturbance != nil {
		d = sc.disturbance(w, opts)
		wg.Go(func() { d.run(dctx) })
	}
	res, err := loadgen.Run(ctx, lopts)
	stop()
	wg.Wait()
	readings, monErr := monitor.Stop()
	if err != nil {
		return nil, err
	}
	if monErr != nil {
		return nil, fmt.Errorf("webhook memory: %w", monErr)
	}
	o := &outcome{name: name, result: res, memory: rig.Summarize(readings)}
	o.checks = append(o.checks, loadChecks(res, rate, opts.Duration)...)
	o.checks = append(o.checks, memoryCheck(readings))
	if d != nil {
		o.checks = append(o.checks, d.checks(res)...)
	}
	if !w.Running() {
		o.checks = append(o.checks, check{what: "the webhook is still running", detail: "it exited; see " + w.LogPath()})
	}
	return o, nil
}

// loadChecks: every request answered correctly, at the rate asked for.
func loadChecks(res *loadgen.Result, rate float64, d time.Duration) []check {
	want := int(rate * d.Seconds())
	return []check{
		{what: "zero errors", ok: res.ErrorCount() == 0, detail: fmt.Sprintf("errors: %s %q", res.ErrorSummary(), res.ErrorSamples)},
		{what: "every scheduled request answered", ok: res.Requests >= want,
			detail: fmt.Sprintf("%d of %d answered", res.Requests, want)},
	}
}

// memoryCheck: the RSS peak of the second half is within bounds of the first's.
func memoryCheck(readings []rig.Usage) check {
	half := len(readings) / 2
	first, second := rig.Summarize(readings[:half]), rig.Summarize(readings[half:])
	limit := int64(float64(first.PeakRSS)*rssGrowthFactor) + rssGrowthSlack
	return check{
		what:   "bounded memory (RSS peak of the second half <= first half's +10% +4 MiB)",
		ok:     half > 0 && second.PeakRSS <= limit,
		detail: fmt.Sprintf("first half peak %s, second half peak %s, limit %s", rig.MiB(first.PeakRSS), rig.MiB(second.PeakRSS), rig.MiB(limit)),
	}
}
