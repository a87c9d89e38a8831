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

// Targets of issue 5 for the webhook.
const (
	typicalTarget    = 100 * time.Microsecond
	largeTarget      = 25 * time.Millisecond
	throughputTarget = 0.70
	p99Target        = 5 * time.Millisecond
	warmupDuration   = 3 * time.Second
)

// handlerRows adds the Go benchmark figures of the webhook's handler.
func handlerRows(t *table, benches map[string]goBench) error {
	for _, p := range []struct {
		name, label string
		target      time.Duration
	}{
		{"typical", "typical pod (2 containers, 20 env vars)", typicalTarget},
		{"large", "large pod (20 containers, 2,000 env vars, 1 MiB)", largeTarget},
		{"injected", "already-injected pod (no patch)", 0},
	} {
		inject, ok := benches["BenchmarkAdmissionReview/inject/"+p.name]
		floor, fok := benches["BenchmarkAdmissionReview/floor/"+p.name]
		if !ok || !fok {
			return fmt.Errorf("the Go benchmark output has no BenchmarkAdmissionReview/{inject,floor}/%s", p.name)
		}
		r := row{
			group: "webhook handler", figure: p.label + ", per AdmissionReview",
			value: fmt.Sprintf("%s, %.0f allocs", formatNs(inject.NsPerOp), inject.AllocsPerOp),
			floor: fmt.Sprintf("%s, %.0f allocs", formatNs(floor.NsPerOp), floor.AllocsPerOp),
			ratio: ratio(inject.NsPerOp, floor.NsPerOp), target: "—",
		}
		if p.target > 0 {
			r.target = "≤ " + formatNs(float64(p.target))
			r.verdict = judge(inject.NsPerOp <= float64(p.target))
		}
		t.add(r)
	}
	return nil
}

// benchWebhook measures bin/webhook over TLS: closed-loop throughput and
// latency, then latency at a fixed rate, each against the floor.
func benchWebhook(ctx context.Context, opts *options, workDir string, t *table, logf func(string, ...any)) (err error) {
	w, err := rig.StartWebhook(ctx, rig.WebhookOptions{RepoRoot: opts.RepoRoot, WorkDir: workDir, Env: splitEnv(opts.WebhookEnv), Logf: logf})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, w.Stop()) }()
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
		logf("webhook, %s: %s; webhook CPU %s", name, res, cpu[res].Round(time.Millisecond))
		return res, nil
	}
	for _, w := range []struct {
		name string
		reqs []loadgen.Request
	}{{"warm-up, injection", inject}, {"warm-up, floor", floor}} {
		if _, err := load(w.name, w.reqs, 0, warmupDuration); err != nil {
			return err
		}
	}
	// Each comparison alternates rounds of the floor and of injection
	// (F I, I F, F I, …), so both see the same drift of a shared machine.
	slice := opts.LoadDuration / time.Duration(opts.Rounds)
	compare := func(rate float64) (floorRes, injectRes *loadgen.Result, err error) {
		var floors, injects []*loadgen.Result
		for i := range opts.Rounds {
			order := []bool{false, true}
			if i%2 == 1 {
				order = []bool{true, false}
			}
			for _, injecting := range order {
				name, reqs := "floor", floor
				if injecting {
					name, reqs = "injection", inject
				}
				res, err := load(fmt.Sprintf("%s at %s, round %d", name, rateName(rate), i+1), reqs, rate, slice)
				if err != nil {
					return nil, nil, err
				}
				if injecting {
					injects = append(injects, res)
				} else {
					floors = append(floors, res)
				}
			}
		}
		floorRes, injectRes = loadgen.Combine(floors...), loadgen.Combine(injects...)
		for _, r := range floors {
			cpu[floorRes] += cpu[r]
		}
		for _, r := range injects {
			cpu[injectRes] += cpu[r]
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
	webhookRows(t, opts, floorClosed, injectClosed, floorRate, injectRate, rig.Summarize(readings))
	perRequest := func(r *loadgen.Result) float64 { return float64(cpu[r]) / float64(max(r.Requests, 1)) }
	t.add(row{group: "webhook over TLS", figure: "webhook CPU per request, closed loop (its own /proc time: what it would cost on cores of its own)",
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

// webhookRows adds the end-to-end figures.
func webhookRows(t *table, opts *options, floorClosed, injectClosed, floorRate, injectRate *loadgen.Result, mem rig.Span) {
	const group = "webhook over TLS"
	tp := injectClosed.Throughput() / floorClosed.Throughput()
	t.add(row{group: group, figure: fmt.Sprintf("throughput, closed loop, %d connections", opts.Connections),
		value: fmt.Sprintf("%.0f/s", injectClosed.Throughput()), floor: fmt.Sprintf("%.0f/s", floorClosed.Throughput()),
		ratio: fmt.Sprintf("%.0f%%", 100*tp), target: fmt.Sprintf("≥ %.0f%% of floor", 100*throughputTarget), verdict: judge(tp >= throughputTarget)})
	t.add(row{group: group, figure: "latency p50 / p99 / p99.9, closed loop",
		value: quantiles(injectClosed), floor: quantiles(floorClosed), ratio: ratio(float64(injectClosed.Quantile(0.99)), float64(floorClosed.Quantile(0.99))), target: "—"})
	p99 := injectRate.Quantile(0.99)
	t.add(row{group: group, figure: fmt.Sprintf("latency p50 / p99 / p99.9 at %g/s (open loop)", opts.Rate),
		value: quantiles(injectRate), floor: quantiles(floorRate), ratio: ratio(float64(p99), float64(floorRate.Quantile(0.99))),
		target: "p99 ≤ " + loadgen.FormatDuration(p99Target), verdict: judge(p99 <= p99Target)})
	errs := 0
	for _, r := range []*loadgen.Result{floorClosed, injectClosed, floorRate, injectRate} {
		errs += r.ErrorCount()
	}
	t.add(row{group: group, figure: "wrong or failed answers, all runs", value: fmt.Sprint(errs), target: "0", verdict: judge(errs == 0)})
	t.add(row{group: group, figure: "webhook RSS start / peak / end", value: fmt.Sprintf("%s / %s / %s", rig.MiB(mem.StartRSS), rig.MiB(mem.PeakRSS), rig.MiB(mem.EndRSS)), target: "—"})
}

// quantiles prints p50 / p99 / p99.9.
func quantiles(r *loadgen.Result) string {
	return fmt.Sprintf("%s / %s / %s", loadgen.FormatDuration(r.Quantile(0.5)), loadgen.FormatDuration(r.Quantile(0.99)), loadgen.FormatDuration(r.Quantile(0.999)))
}
