package sidecar

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/history"
	"github.com/gopherscope/gopherscope/sidecar/normalize"
	"github.com/gopherscope/gopherscope/sidecar/source"
)

// Sampler reads the app's endpoints at the interval, in the background, and
// publishes each sample as a Snapshot and a history point.
type Sampler struct {
	interval time.Duration
	norm     *normalize.Normalizer
	ring     *history.Ring
	log      logr.Logger
	client   *source.Client
	now      func() time.Time
	health   healthDescs
	// detectors is nil when the options do not validate (Options.Validate
	// says why; NewSampler logs it).
	detectors *findings.Set
	clock     processClock

	// Owned by the goroutine that samples.
	sources []*observedSource
	// pprof is the pprof source, nil when disabled: it also reads the
	// goroutine profile that names a leak's stacks.
	pprof *source.Pprof
	// pprofPort is the port the pprof source last read, 0 while none
	// answered; the diagnostics port forwards there (PprofBase).
	pprofPort            atomic.Int64
	targetHost, pprofDir string
	// readsLeakProfile is false once the app answered 404 for its
	// goroutine leak profile (Go without GOEXPERIMENT=goroutineleakprofile).
	readsLeakProfile bool
	// readsPrometheus says whether the app's own exposition is read, and
	// dropped counts what the limits left out of it since the start.
	readsPrometheus bool
	dropped         source.Dropped

	latest atomic.Pointer[Snapshot]
	ready  atomic.Bool
	reason atomic.Pointer[string]
}

// NewSampler returns a sampler for the sources that opts enables (an empty
// path disables a source), recording into ring.
func NewSampler(opts Options, ring *history.Ring, log logr.Logger) *Sampler {
	client := source.NewClient(opts.requestTimeout(), opts.MaxBodyBytes, opts.UserAgent)
	cfg := source.Config{
		Host:        opts.TargetHost,
		Ports:       opts.TargetPorts,
		Client:      client,
		BackoffBase: opts.Interval,
		BackoffMax:  opts.backoffMax(),
	}
	s := &Sampler{
		interval:   opts.Interval,
		norm:       normalize.New(),
		ring:       ring,
		log:        log,
		client:     client,
		now:        time.Now,
		health:     newHealthDescs(),
		targetHost: opts.TargetHost,
		pprofDir:   strings.TrimRight(opts.PprofPath, "/"),
	}
	if opts.ExpvarPath != "" {
		s.sources = append(s.sources, &observedSource{Source: source.NewExpvar(cfg, opts.ExpvarPath), setup: setupFor("expvar", opts.ExpvarPath, opts.TargetPorts)})
	}
	if opts.PprofPath != "" {
		s.pprof, s.readsLeakProfile = source.NewPprof(cfg, opts.PprofPath), true
		s.sources = append(s.sources, &observedSource{Source: s.pprof, setup: setupFor("pprof", opts.PprofPath, opts.TargetPorts)})
	}
	if opts.MetricsPath != "" {
		s.sources = append(s.sources, &observedSource{Source: source.NewPrometheus(cfg, opts.MetricsPath), setup: setupFor("prometheus", opts.MetricsPath, opts.TargetPorts)})
		s.readsPrometheus = true
	}
	detectors, err := findings.New(opts.findingsOptions(), opts.Limits)
	if err != nil {
		log.Error(err, "findings disabled")
	}
	s.detectors = detectors
	reason := "no sample yet"
	s.reason.Store(&reason)
	return s
}

// Run samples immediately, then at every interval, until ctx ends.
func (s *Sampler) Run(ctx context.Context) {
	ticker := time.NewTicker(s.interval)
	defer ticker.Stop()
	for {
		s.SampleOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Close releases the sampler's idle connections to the app. Call it after Run returned.
func (s *Sampler) Close() { s.client.Close() }

// Latest returns the most recent snapshot, or nil before the first sample.
func (s *Sampler) Latest() *Snapshot { return s.latest.Load() }

// Ready reports whether the app has answered at least once and, if not, why.
func (s *Sampler) Ready() (bool, string) {
	if s.ready.Load() {
		return true, ""
	}
	return false, *s.reason.Load()
}

// SampleOnce reads every enabled source once (concurrently, all within one
// interval), normalizes, and publishes the result. Only one SampleOnce may
// run at a time; Run guarantees it.
func (s *Sampler) SampleOnce(ctx context.Context) *Snapshot {
	start := s.now()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, s.interval)
	defer cancel()

	var (
		in source.Readings
		wg sync.WaitGroup
	)
	for _, src := range s.sources {
		wg.Go(func() { src.fetch(ctx, &in, s.now, s.log) })
	}
	wg.Wait()
	if s.pprof != nil {
		s.pprofPort.Store(int64(s.pprof.Port()))
	}

	up := !in.Empty()
	out := s.norm.Normalize(in)
	if out.Restarted {
		s.log.Info("target restarted", "restarts", s.norm.Restarts())
	}
	health := s.health.metrics(up, s.sources, s.norm.Restarts(), float64(start.UnixNano())/1e9)
	if s.readsPrometheus {
		s.dropped = s.dropped.Add(in.PrometheusDropped)
		health = append(health, s.health.droppedMetrics(s.dropped)...)
	}
	statuses := make([]SourceStatus, len(s.sources))
	for i, src := range s.sources {
		statuses[i] = src.status()
	}
	var active []findings.Finding
	if s.detectors != nil {
		// A sample without an answer says nothing: the findings stay as they were.
		if up {
			active = s.detectors.Observe(s.clock.observation(start, out, in.Expvar))
			// The profile read has the client's own timeout, not what
			// is left of the interval.
			active = s.nameLeakStacks(parent, start, active)
		} else {
			active = s.detectors.Active()
		}
		health = append(health, s.health.findingMetrics(active)...)
	}
	snap := &Snapshot{Time: start, TargetUp: up, Sources: statuses, Findings: active, families: out.Families, health: health}
	if in.Expvar != nil {
		if p99, n, ok := normalize.PausePercentile(&in.Expvar.MemStats, gcPausePercentile); ok {
			snap.gcPauseP99, snap.gcPauses = &p99, n
		}
	}
	// The point first: whoever sees the snapshot finds its point in the
	// ring (stats relies on it).
	s.ring.Add(historyPoint(start, up, out))
	s.latest.Store(snap)
	if up {
		s.ready.Store(true)
	} else {
		reason := s.notReadyReason()
		s.reason.Store(&reason)
	}
	return snap
}

func (s *Sampler) notReadyReason() string {
	if len(s.sources) == 0 {
		return "no source is enabled"
	}
	parts := make([]string, 0, len(s.sources))
	for _, src := range s.sources {
		msg := src.lastErr
		if msg == "" {
			msg = "backing off"
		}
		parts = append(parts, fmt.Sprintf("%s: %s", src.Name(), msg))
	}
	return "the app has not answered yet: " + strings.Join(parts, "; ")
}
