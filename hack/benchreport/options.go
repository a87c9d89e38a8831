package main

import (
	"errors"
	"flag"
	"fmt"
	"time"
)

// options are the command line.
type options struct {
	RepoRoot       string
	GoBench        string
	Markdown       string
	WorkDir        string
	Keep           bool
	FailOnMiss     bool
	Rounds         int
	CreateRounds   int
	CreateRate     float64
	CreateDuration time.Duration
	LargeRate      float64
	LargeDuration  time.Duration
	Connections    int
	LoadDuration   time.Duration
	Rate           float64
	SampleOnly     time.Duration
	ScrapersTime   time.Duration
	SourceTime     time.Duration
	FloorTime      time.Duration
	SidecarEnv     string
	WebhookEnv     string
	FetchFloor     string
	FetchEvery     time.Duration
	Parts          string
	HeapRequests   int
	CPUSeconds     int
	CPURounds      int
	TopPods        int
	TopRuns        int
	DiagNode       string
}

func (o *options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.RepoRoot, "repo", ".", "repository root (bin/ with webhook, sidecar, demo-app, helm, kube-apiserver, etcd; charts/)")
	fs.StringVar(&o.GoBench, "gobench", "", "output of `go test -bench -benchmem` for BenchmarkAdmissionReview and BenchmarkMetricsRender")
	fs.StringVar(&o.Markdown, "markdown", "", "also write the table as Markdown to this file")
	fs.StringVar(&o.WorkDir, "work-dir", "", "scratch directory for logs (default: a new temporary one, removed after a clean run)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the work directory")
	fs.BoolVar(&o.FailOnMiss, "fail-on-miss", false, "exit 1 when a figure misses its target (misses are always marked and counted)")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds of the comparisons straight to the webhook (floor and injection alternate) and of the sidecar's (1, 2 and 10 scrapers take turns)")
	fs.IntVar(&o.CreateRounds, "create-rounds", 10, "rounds of the pod creates, with and without the webhook alternating (short rounds share a noisy machine's bursts)")
	fs.Float64Var(&o.CreateRate, "create-rate", 100, "pod creates per second through the API server, typical pod")
	fs.DurationVar(&o.CreateDuration, "create-duration", 30*time.Second, "length of the typical pod's creates with the webhook, and again without (split into rounds)")
	fs.Float64Var(&o.LargeRate, "large-rate", 3, "pod creates per second through the API server, large pod")
	fs.DurationVar(&o.LargeDuration, "large-duration", 40*time.Second, "length of the large pod's creates with the webhook, and again without (split into rounds)")
	fs.IntVar(&o.Connections, "connections", 8, "concurrent connections of the closed-loop runs straight to the webhook")
	fs.DurationVar(&o.LoadDuration, "load-duration", 9*time.Second, "length of each run straight to the webhook, with injection and again for the floor (split into rounds)")
	fs.Float64Var(&o.Rate, "rate", 500, "request rate of the open-loop runs straight to the webhook")
	fs.DurationVar(&o.SampleOnly, "sample-only-duration", 30*time.Second, "length of the sidecar window without scrapers, and of the fetch-only floor measured at the same time")
	fs.DurationVar(&o.ScrapersTime, "scrapers-duration", 36*time.Second, "length of each of the sidecar's 1-, 2- and 10-scraper windows (split into rounds)")
	fs.DurationVar(&o.SourceTime, "source-duration", 20*time.Second, "length of the sidecar's window on the demo app's prometheus and pprof modes (RSS)")
	fs.DurationVar(&o.FloorTime, "floor-duration", 20*time.Second, "length of the client_golang self-scrape window (the app's stop-the-world floor)")
	fs.StringVar(&o.Parts, "parts", "webhook,sidecar,diagnostics", "what to measure live, comma-separated: webhook, sidecar, diagnostics (the diagnostics API on the real node: root, containerd; skipped with the reason where it cannot run; the Go benchmarks are always reported)")
	fs.IntVar(&o.HeapRequests, "heap-requests", 20, "diagnostics: heap profiles through the API server, and as many straight from the app (the floor), paced at the sidecar's dump rate limit")
	fs.IntVar(&o.CPUSeconds, "cpu-seconds", 5, "diagnostics: the seconds of each CPU profile")
	fs.IntVar(&o.CPURounds, "cpu-rounds", 3, "diagnostics: CPU profiles through the API server, and as many straight from the app (the floor)")
	fs.IntVar(&o.TopPods, "top-pods", 100, "diagnostics: injected pods `gopherscope top` lists (one Deployment; the kubelet runs at most 110 pods)")
	fs.IntVar(&o.TopRuns, "top-runs", 5, "diagnostics: timed runs of `gopherscope top`, and as many of the floor")
	fs.StringVar(&o.WebhookEnv, "webhook-env", "", "comma-separated KEY=VALUE added to the webhook's environment (e.g. GOGC=200)")
	fs.StringVar(&o.SidecarEnv, "sidecar-env", "", "comma-separated KEY=VALUE environment of the sidecar (e.g. GOMAXPROCS=1)")
	fs.StringVar(&o.FetchFloor, fetchFloorFlag, "", "internal: run as the sidecar's CPU floor, fetching these comma-separated URLs")
	fs.DurationVar(&o.FetchEvery, "fetch-interval", time.Second, "internal: the floor's fetch interval")
	fs.StringVar(&o.DiagNode, diagNodeFlag, "", "internal: measure the diagnostics API on the real node (inside its network namespace) and write the rows to this file")
}

func (o *options) Validate() error {
	var errs []error
	if o.GoBench == "" {
		errs = append(errs, errors.New("--gobench: the Go benchmark output is required (hack/bench.sh writes it)"))
	}
	if o.Connections < 1 || o.Rate <= 0 || o.Rounds < 1 || o.CreateRounds < 1 || o.CreateRate <= 0 || o.LargeRate <= 0 {
		errs = append(errs, fmt.Errorf("--connections %d, --rate %g, --create-rate %g, --large-rate %g, --rounds %d and --create-rounds %d must be positive",
			o.Connections, o.Rate, o.CreateRate, o.LargeRate, o.Rounds, o.CreateRounds))
	}
	if o.HeapRequests < 1 || o.CPURounds < 1 || o.TopRuns < 1 || o.TopPods < 1 || o.CPUSeconds < 1 || o.CPUSeconds > 45 {
		errs = append(errs, fmt.Errorf("--heap-requests %d, --cpu-rounds %d, --top-runs %d and --top-pods %d must be positive, --cpu-seconds %d between 1 and 45 (the diagnostics API's maximum)",
			o.HeapRequests, o.CPURounds, o.TopRuns, o.TopPods, o.CPUSeconds))
	}
	for _, d := range []time.Duration{o.CreateDuration, o.LargeDuration, o.LoadDuration, o.SampleOnly, o.ScrapersTime, o.SourceTime, o.FloorTime} {
		if d < 5*time.Second {
			errs = append(errs, fmt.Errorf("durations must be at least 5s, got %s", d))
		}
	}
	return errors.Join(errs...)
}
