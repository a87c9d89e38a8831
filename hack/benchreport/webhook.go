package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
	"github.com/gopherscope/gopherscope/internal/testfixture"
)

// warmupDuration is how long each kind of request is sent before a
// measurement, unmeasured.
const warmupDuration = 3 * time.Second

// handlerRows adds the Go benchmark figures of the webhook's handler: a
// diagnostic, without targets (what users feel is pod creation).
func handlerRows(t *table, benches map[string]goBench) error {
	for _, p := range []struct{ name, label string }{
		{"typical", "typical pod (2 containers, 20 env vars)"},
		{"large", "large pod (20 containers, 2,000 env vars, 1 MiB)"},
		{"injected", "already-injected pod (no patch)"},
	} {
		inject, ok := benches["BenchmarkAdmissionReview/inject/"+p.name]
		floor, fok := benches["BenchmarkAdmissionReview/floor/"+p.name]
		if !ok || !fok {
			return fmt.Errorf("the Go benchmark output has no BenchmarkAdmissionReview/{inject,floor}/%s", p.name)
		}
		t.add(row{
			group: "webhook handler", figure: p.label + ", per AdmissionReview (Go benchmark)",
			value: fmt.Sprintf("%s, %.0f allocs", formatNs(inject.NsPerOp), inject.AllocsPerOp),
			floor: fmt.Sprintf("%s, %.0f allocs", formatNs(floor.NsPerOp), floor.AllocsPerOp),
			ratio: ratio(inject.NsPerOp, floor.NsPerOp), target: "—",
		})
	}
	return nil
}

// benchWebhook starts bin/webhook on the local control plane, registers it
// through the chart and measures pod creation with and without it (the
// targets), then requests sent straight to it over TLS (diagnostics).
func benchWebhook(ctx context.Context, opts *options, workDir string, t *table, logf func(string, ...any)) (err error) {
	w, err := rig.StartWebhook(ctx, rig.WebhookOptions{RepoRoot: opts.RepoRoot, WorkDir: workDir, Env: splitEnv(opts.WebhookEnv), Logf: logf})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, w.Stop()) }()
	if err := w.Register(ctx); err != nil {
		return err
	}
	if err := benchCreates(ctx, opts, w, t, logf); err != nil {
		return err
	}
	return benchDirect(ctx, opts, w, t, logf)
}

// benchDirect sends AdmissionReviews of the typical pod straight to the
// webhook over TLS: closed-loop throughput and latency, then latency at a
// fixed rate, each against the floor (a namespace labelled disabled).
func benchDirect(ctx context.Context, opts *options, w *rig.Webhook, t *table, logf func(string, ...any)) error {
	inject, err := loadgen.Requests("typical pod, opted in", testfixture.TypicalPod(rig.NamespaceInject), true)
	if err != nil {
		return err
	}
	floor, err := loadgen.Requests("typical pod, opted out", testfixture.TypicalPod(rig.NamespaceFloor), false)
	if err != nil {
		return err
	}
	monitor, err := rig.StartMonitor(w.Pid(), time.Second)
	if err != nil {
		return err
	}
	// cpu is the webhook's CPU time during each run, by result.
	cpu := map[*loadgen.Result]time.Duration{}
	load := func(name string, reqs []loadgen.Request, rate float64, d time.Duration) (*loadgen.Result, error) {
		before, err := rig.ReadUsage(w.Pid())
		if err != nil {
			return nil, err
		}
		res, err := loadgen.Run(ctx, loadgen.Options{Target: w.Target(), Requests: reqs, Connections: opts.Connections, Rate: rate, Duration: d})
		if err != nil {
			return nil, err
		}
		after, err := rig.ReadUsage(w.Pid())
		if err != nil {
			return nil, err
		}
		cpu[res] = after.CPU - before.CPU
		logf("webhook over TLS, %s: %s; webhook CPU %s", name, res, cpu[res].Round(time.Millisecond))
		return res, nil
	}
	for _, warm := range []struct {
		name string
		reqs []loadgen.Request
	}{{"warm-up, injection", inject}, {"warm-up, floor", floor}} {
		if _, err := load(warm.name, warm.reqs, 0, warmupDuration); err != nil {
			return err
		}
	}
	slice := opts.LoadDuration / time.Duration(opts.Rounds)
	compare := func(rate float64) (floorRes, injectRes *loadgen.Result, err error) {
		var runs [2][]*loadgen.Result // floor, injection
		err = takeTurns(opts.Rounds, 2, func(which, round int) error {
			name, reqs := "floor", floor
			if which == 1 {
				name, reqs = "injection", inject
			}
			res, err := load(fmt.Sprintf("%s at %s, round %d", name, rateName(rate), round+1), reqs, rate, slice)
			runs[which] = append(runs[which], res)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		floorRes, injectRes = loadgen.Combine(runs[0]...), loadgen.Combine(runs[1]...)
		for i, combined := range []*loadgen.Result{floorRes, injectRes} {
			for _, r := range runs[i] {
				cpu[combined] += cpu[r]
			}
		}
		return floorRes, injectRes, nil
	}
	floorClosed, injectClosed, err := compare(0)
	if err != nil {
		return err
	}
	floorRate, injectRate, err := compare(opts.Rate)
	if err != nil {
		return err
	}
	readings, err := monitor.Stop()
	if err != nil {
		return err
	}
	directRows(t, opts, floorClosed, injectClosed, floorRate, injectRate, rig.Summarize(readings))
	perRequest := func(r *loadgen.Result) float64 { return float64(cpu[r]) / float64(max(r.Requests, 1)) }
	t.add(row{group: directGroup, figure: "webhook CPU per request, closed loop (its own /proc time: what it would cost on cores of its own)",
		value: formatNs(perRequest(injectClosed)), floor: formatNs(perRequest(floorClosed)),
		ratio: fmt.Sprintf("floor/injection %.0f%%", 100*perRequest(floorClosed)/perRequest(injectClosed)), target: "—"})
	return nil
}

// rateName says how a run is paced.
func rateName(rate float64) string {
	if rate == 0 {
		return "full speed"
	}
	return fmt.Sprintf("%g/s", rate)
}

// directGroup is the table group of requests sent straight to the webhook.
const directGroup = "webhook over TLS (diagnostic)"

// directRows adds the figures of requests sent straight to the webhook.
// Only correct answers have a target: the figures are for finding where
// time goes, the targets are on pod creation.
func directRows(t *table, opts *options, floorClosed, injectClosed, floorRate, injectRate *loadgen.Result, mem rig.Span) {
	tp := injectClosed.Throughput() / floorClosed.Throughput()
	t.add(row{group: directGroup, figure: fmt.Sprintf("throughput, closed loop, %d connections", opts.Connections),
		value: fmt.Sprintf("%.0f/s", injectClosed.Throughput()), floor: fmt.Sprintf("%.0f/s", floorClosed.Throughput()),
		ratio: fmt.Sprintf("%.0f%%", 100*tp), target: "—"})
	t.add(row{group: directGroup, figure: "latency p50 / p99 / p99.9, closed loop",
		value: quantiles(injectClosed), floor: quantiles(floorClosed), ratio: ratio(float64(injectClosed.Quantile(0.99)), float64(floorClosed.Quantile(0.99))), target: "—"})
	t.add(row{group: directGroup, figure: fmt.Sprintf("latency p50 / p99 / p99.9 at %g/s (open loop)", opts.Rate),
		value: quantiles(injectRate), floor: quantiles(floorRate), ratio: ratio(float64(injectRate.Quantile(0.99)), float64(floorRate.Quantile(0.99))), target: "—"})
	errs := 0
	for _, r := range []*loadgen.Result{floorClosed, injectClosed, floorRate, injectRate} {
		errs += r.ErrorCount()
	}
	t.add(row{group: directGroup, figure: "wrong or failed answers, all runs", value: fmt.Sprint(errs), target: "0", verdict: judge(errs == 0)})
	t.add(row{group: directGroup, figure: "webhook RSS start / peak / end", value: fmt.Sprintf("%s / %s / %s", rig.MiB(mem.StartRSS), rig.MiB(mem.PeakRSS), rig.MiB(mem.EndRSS)), target: "—"})
}

// quantiles prints p50 / p99 / p99.9.
func quantiles(r *loadgen.Result) string {
	return fmt.Sprintf("%s / %s / %s", loadgen.FormatDuration(r.Quantile(0.5)), loadgen.FormatDuration(r.Quantile(0.99)), loadgen.FormatDuration(r.Quantile(0.999)))
}
