package main

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// options are the command line.
type options struct {
	RepoRoot     string
	GoBench      string
	Markdown     string
	WorkDir      string
	Keep         bool
	FailOnMiss   bool
	Connections  int
	LoadDuration time.Duration
	Rate         float64
	SoakDuration time.Duration
	ScrapersTime time.Duration
	FloorTime    time.Duration
	SampleOnly   time.Duration
	SidecarEnv   string
	WebhookEnv   string
	FetchFloor   string
	FetchEvery   time.Duration
	Parts        string
	Rounds       int
}

func (o *options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.RepoRoot, "repo", ".", "repository root (bin/ with webhook, sidecar, demo-app, kube-apiserver, etcd)")
	fs.StringVar(&o.GoBench, "gobench", "", "output of `go test -bench -benchmem` for BenchmarkAdmissionReview and BenchmarkMetricsRender")
	fs.StringVar(&o.Markdown, "markdown", "", "also write the table as Markdown to this file")
	fs.StringVar(&o.WorkDir, "work-dir", "", "scratch directory for logs (default: a new temporary one, removed after a clean run)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the work directory")
	fs.BoolVar(&o.FailOnMiss, "fail-on-miss", false, "exit 1 when a figure misses its target (misses are always marked and counted)")
	fs.IntVar(&o.Connections, "connections", 8, "concurrent connections of the closed-loop webhook runs")
	fs.DurationVar(&o.LoadDuration, "load-duration", 15*time.Second, "length of each webhook measurement, split into rounds")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds of each webhook measurement, alternating floor and injection")
	fs.Float64Var(&o.Rate, "rate", 500, "request rate of the open-loop webhook latency runs")
	fs.DurationVar(&o.SoakDuration, "sidecar-duration", 60*time.Second, "length of the sidecar's steady-state window (one scraper)")
	fs.DurationVar(&o.ScrapersTime, "scrapers-duration", 40*time.Second, "length of the sidecar window with 10 scrapers")
	fs.DurationVar(&o.FloorTime, "floor-duration", 40*time.Second, "length of the client_golang self-scrape window")
	fs.DurationVar(&o.SampleOnly, "sample-only-duration", 30*time.Second, "length of the sidecar window without scrapers")
	fs.StringVar(&o.Parts, "parts", "webhook,sidecar", "what to measure live, comma-separated: webhook, sidecar (the Go benchmarks are always reported)")
	fs.StringVar(&o.WebhookEnv, "webhook-env", "", "comma-separated KEY=VALUE added to the webhook's environment (e.g. GOGC=200)")
	fs.StringVar(&o.SidecarEnv, "sidecar-env", "", "comma-separated KEY=VALUE environment of the sidecar (e.g. GOMAXPROCS=1)")
	fs.StringVar(&o.FetchFloor, fetchFloorFlag, "", "internal: run as the sidecar's CPU floor, fetching these comma-separated URLs")
	fs.DurationVar(&o.FetchEvery, "fetch-interval", time.Second, "internal: the floor's fetch interval")
}

func (o *options) Validate() error {
	var errs []error
	if o.GoBench == "" {
		errs = append(errs, errors.New("--gobench: the Go benchmark output is required (hack/bench.sh writes it)"))
	}
	if o.Connections < 1 || o.Rate <= 0 || o.Rounds < 1 {
		errs = append(errs, fmt.Errorf("--connections %d, --rate %g and --rounds %d must be positive", o.Connections, o.Rate, o.Rounds))
	}
	for _, d := range []time.Duration{o.LoadDuration, o.SoakDuration, o.ScrapersTime, o.FloorTime, o.SampleOnly} {
		if d < 5*time.Second {
			errs = append(errs, fmt.Errorf("durations must be at least 5s, got %s", d))
		}
	}
	return errors.Join(errs...)
}
