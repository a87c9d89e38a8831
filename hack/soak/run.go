package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
	"github.com/gopherscope/gopherscope/internal/testfixture"
)

// warmup is the closed-loop run before the scenarios: it warms the
// webhook's caches and measures what the machine can take.
const warmup = 5 * time.Second

// capacityMargin is how much more than the soak rate the machine must
// handle closed-loop for the soak to run at that rate.
const capacityMargin = 1.1

// run starts the webhook, runs the chosen scenarios and reports them.
func run(ctx context.Context, opts *options, out io.Writer) (err error) {
	workDir, err := workDirectory(opts)
	if err != nil {
		return err
	}
	p := &printer{w: out}
	logf := func(format string, args ...any) { p.printf("soak: "+format+"\n", args...) }
	w, err := rig.StartWebhook(ctx, rig.WebhookOptions{RepoRoot: opts.RepoRoot, WorkDir: workDir, Logf: logf})
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, w.Stop())
		if err == nil && !opts.Keep && opts.WorkDir == "" {
			err = os.RemoveAll(workDir)
		} else {
			logf("logs and files kept in %s", workDir)
		}
	}()
	requests, err := loadgen.Requests("typical pod", testfixture.TypicalPod(rig.NamespaceInject), true)
	if err != nil {
		return err
	}
	warm, err := loadgen.Run(ctx, loadgen.Options{Target: w.Target(), Requests: requests, Connections: opts.Connections, Duration: warmup})
	if err != nil {
		return err
	}
	logf("warm-up, %s", warm)
	rate := opts.Rate
	if capacity := warm.Throughput(); capacity < rate*capacityMargin {
		rate = math.Floor(capacity/capacityMargin/50) * 50
		logf("this machine's measured maximum is %.0f AdmissionReviews/s (closed loop, %d connections): soaking at %.0f/s instead of %.0f/s",
			capacity, opts.Connections, rate, opts.Rate)
	}
	var outcomes []*outcome
	for name := range strings.SplitSeq(opts.Scenarios, ",") {
		logf("scenario %s: %s for %s at %.0f/s", name, scenarios[name].about, opts.Duration, rate)
		o, err := runScenario(ctx, name, w, requests, rate, opts)
		if err != nil {
			return fmt.Errorf("scenario %s: %w", name, err)
		}
		outcomes = append(outcomes, o)
	}
	failed, err := printReport(out, outcomes, rate, opts)
	if err != nil {
		return fmt.Errorf("print the report: %w", err)
	}
	if failed > 0 {
		return fmt.Errorf("%d checks failed", failed)
	}
	return nil
}

// workDirectory is --work-dir or a new temporary directory.
func workDirectory(opts *options) (string, error) {
	if opts.WorkDir != "" {
		if err := os.MkdirAll(opts.WorkDir, 0o750); err != nil {
			return "", fmt.Errorf("create work dir: %w", err)
		}
		return filepath.Abs(opts.WorkDir)
	}
	dir, err := os.MkdirTemp("", "gopherscope-soak-")
	if err != nil {
		return "", fmt.Errorf("create work dir: %w", err)
	}
	return dir, nil
}
