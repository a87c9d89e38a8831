package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
	"github.com/gopherscope/gopherscope/internal/testfixture"
)

// Targets of issue 11 for the webhook: what it adds to a pod create's p99.
const (
	typicalCreateTarget = 2 * time.Millisecond
	largeCreateTarget   = 50 * time.Millisecond
)

// createGroup is the table group of pod creation through the API server.
const createGroup = "pod create (API server, dry run)"

// createTimeout bounds one create; the webhook's own timeout is 5 s.
const createTimeout = 30 * time.Second

// createCase is one pod created at one rate, with and without the webhook.
type createCase struct {
	label  string
	pod    func(namespace string) *corev1.Pod
	rate   float64
	d      time.Duration
	target time.Duration
}

// benchCreates measures what the webhook adds to a pod create: the
// typical and the large pod created through the API server as dry runs at
// a steady rate, in the opted-in namespace (the API server calls the
// webhook) and in a namespace without the label (it does not), the two
// taking turns.
func benchCreates(ctx context.Context, opts *options, w *rig.Webhook, t *table, logf func(string, ...any)) error {
	cfg := w.RESTConfig()
	// As the controllers that create pods talk to the API server: protobuf,
	// and here no client-side rate limit, so the rate is the one asked for.
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	cfg.Timeout = createTimeout
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("API server client: %w", err)
	}
	admin, err := kubernetes.NewForConfig(w.RESTConfig())
	if err != nil {
		return fmt.Errorf("API server client: %w", err)
	}
	times := func() (admissionTimes, error) { return readAdmissionTimes(ctx, admin, w.MetricsURL) }
	var errs []*loadgen.Result
	for _, c := range []createCase{
		{label: "typical pod (2 containers, 20 env vars)", pod: testfixture.TypicalPod, rate: opts.CreateRate, d: opts.CreateDuration, target: typicalCreateTarget},
		{label: "large pod (20 containers, 2,000 env vars, 1 MiB)", pod: testfixture.LargePod, rate: opts.LargeRate, d: opts.LargeDuration, target: largeCreateTarget},
	} {
		without, with, spent, err := compareCreates(ctx, client, times, opts.CreateRounds, c, logf)
		if err != nil {
			return err
		}
		createRow(t, c, without, with)
		t.add(row{group: createGroup, figure: fmt.Sprintf("%s, %g creates/s: mean time per review with the webhook (the call from sending the review to the patch applied)", c.label, c.rate),
			value: spent, target: "—"})
		errs = append(errs, without, with)
	}
	failed := loadgen.Combine(errs...)
	t.add(row{group: createGroup, figure: "failed creates, or pods injected where they should not be or not where they should",
		value: fmt.Sprintf("%d (%s)", failed.ErrorCount(), failed.ErrorSummary()), target: "0", verdict: judge(failed.ErrorCount() == 0)})
	return nil
}

// compareCreates creates c's pod with the webhook and without it, in
// rounds taking turns after a warm-up of each, and says what times reports
// of the admissions in between.
func compareCreates(ctx context.Context, client kubernetes.Interface, times func() (admissionTimes, error), rounds int, c createCase,
	logf func(string, ...any)) (without, with *loadgen.Result, spent string, err error) {
	run := func(name string, injected bool, d time.Duration) (*loadgen.Result, error) {
		ns := rig.NamespacePlain
		if injected {
			ns = rig.NamespaceInject
		}
		res, err := loadgen.RunCreates(ctx, loadgen.CreateOptions{Client: client, Pod: c.pod(ns), WantInjected: injected, Rate: c.rate, Duration: d})
		if err != nil {
			return nil, err
		}
		logf("pod create, %s at %g/s, %s: %d created in %s, p50 %s p99 %s max %s, errors: %s",
			c.label, c.rate, name, res.Requests, res.Elapsed.Round(time.Millisecond), loadgen.FormatDuration(res.Quantile(0.5)),
			loadgen.FormatDuration(res.Quantile(0.99)), loadgen.FormatDuration(res.Quantile(1)), res.ErrorSummary())
		return res, nil
	}
	for _, warm := range []struct {
		name     string
		injected bool
	}{{"warm-up with the webhook", true}, {"warm-up without", false}} {
		if _, err := run(warm.name, warm.injected, warmupDuration); err != nil {
			return nil, nil, "", err
		}
	}
	before, err := times()
	if err != nil {
		return nil, nil, "", err
	}
	var runs [2][]*loadgen.Result // without, with
	err = takeTurns(rounds, 2, func(which, round int) error {
		name := "without the webhook"
		if which == 1 {
			name = "with the webhook"
		}
		res, err := run(fmt.Sprintf("%s, round %d", name, round+1), which == 1, c.d/time.Duration(rounds))
		runs[which] = append(runs[which], res)
		return err
	})
	if err != nil {
		return nil, nil, "", err
	}
	after, err := times()
	if err != nil {
		return nil, nil, "", err
	}
	return loadgen.Combine(runs[0]...), loadgen.Combine(runs[1]...), after.since(before), nil
}

// createRow adds one case's latencies and what the webhook adds to them.
func createRow(t *table, c createCase, without, with *loadgen.Result) {
	added := func(q float64) time.Duration { return with.Quantile(q) - without.Quantile(q) }
	t.add(row{group: createGroup,
		figure: fmt.Sprintf("%s, %g creates/s: p50 / p99 / p99.9 with the webhook (floor: without; %d and %d creates)",
			c.label, c.rate, with.Requests, without.Requests),
		value:  quantiles(with),
		floor:  quantiles(without),
		ratio:  fmt.Sprintf("p99 %s (p50 %s)", signed(added(0.99)), signed(added(0.5))),
		target: "p99 " + signed(c.target) + " at most", verdict: judge(with.Requests > 0 && without.Requests > 0 && added(0.99) <= c.target)})
}

// signed prints a latency difference with its sign.
func signed(d time.Duration) string {
	if d < 0 {
		return "−" + loadgen.FormatDuration(-d)
	}
	return "+" + loadgen.FormatDuration(d)
}
