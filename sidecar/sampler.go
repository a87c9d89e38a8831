package sidecar

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gopherscope/gopherscope/sidecar/history"
	"github.com/gopherscope/gopherscope/sidecar/normalize"
	"github.com/gopherscope/gopherscope/sidecar/source"
)

// Snapshot is one sample, immutable once published: /metrics renders the
// latest one, so any number of scrapers costs the app nothing more.
type Snapshot struct {
	// Time is when the sample started.
	Time time.Time
	// TargetUp says whether any of the app's endpoints answered.
	TargetUp bool
	// Metrics are the app's normalized series followed by the health series.
	Metrics []prometheus.Metric
}

// Sampler reads the app's endpoints at the interval, in the background, and
// publishes each sample as a Snapshot and a history point.
type Sampler struct {
	interval time.Duration
	expvar   *source.Expvar
	pprof    *source.Pprof
	prom     *source.Prometheus
	norm     *normalize.Normalizer
	ring     *history.Ring
	log      logr.Logger
	client   *source.Client
	now      func() time.Time
	health   healthDescs

	// Owned by the goroutine that samples.
	status []*sourceStatus

	latest atomic.Pointer[Snapshot]
	ready  atomic.Bool
	reason atomic.Pointer[string]
}

// NewSampler returns a sampler for the sources that cfg enables (an empty
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
		interval: opts.Interval,
		norm:     normalize.New(),
		ring:     ring,
		log:      log,
		client:   client,
		now:      time.Now,
		health:   newHealthDescs(),
	}
	if opts.ExpvarPath != "" {
		s.expvar = source.NewExpvar(cfg, opts.ExpvarPath)
		s.status = append(s.status, &sourceStatus{name: sourceExpvar})
	}
	if opts.PprofPath != "" {
		s.pprof = source.NewPprof(cfg, opts.PprofPath)
		s.status = append(s.status, &sourceStatus{name: sourcePprof})
	}
	if opts.MetricsPath != "" {
		s.prom = source.NewPrometheus(cfg, opts.MetricsPath)
		s.status = append(s.status, &sourceStatus{name: sourcePrometheus})
	}
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
	ctx, cancel := context.WithTimeout(ctx, s.interval)
	defer cancel()

	var (
		in normalize.Input
		wg sync.WaitGroup
	)
	run := func(st *sourceStatus, fetch func(context.Context) error) {
		wg.Go(func() {
			t0 := s.now()
			err := fetch(ctx)
			if errors.Is(err, source.ErrBackingOff) {
				st.up = false
				return
			}
			st.duration = s.now().Sub(t0).Seconds()
			s.record(st, err)
		})
	}
	for _, st := range s.status {
		switch st.name {
		case sourceExpvar:
			run(st, func(ctx context.Context) error {
				d, err := s.expvar.Fetch(ctx)
				in.Expvar = d
				st.port = s.expvar.Port()
				return err
			})
		case sourcePprof:
			run(st, func(ctx context.Context) error {
				c, err := s.pprof.Fetch(ctx)
				if err == nil {
					in.Profiles = &c
				}
				st.port = s.pprof.Port()
				return err
			})
		case sourcePrometheus:
			run(st, func(ctx context.Context) error {
				f, err := s.prom.Fetch(ctx)
				if err == nil && f == nil {
					f = []*dto.MetricFamily{}
				}
				in.Prometheus = f
				st.port = s.prom.Port()
				return err
			})
		}
	}
	wg.Wait()

	up := !in.Empty()
	out := s.norm.Normalize(in)
	if out.Restarted {
		s.log.Info("target restarted", "restarts", s.norm.Restarts())
	}
	metrics, err := constMetrics(out.Families)
	if err != nil {
		s.log.V(1).Info("series left out of the exposition", "error", err.Error())
	}
	metrics = append(metrics, s.health.metrics(up, s.status, s.norm.Restarts(), float64(start.UnixNano())/1e9)...)
	snap := &Snapshot{Time: start, TargetUp: up, Metrics: metrics}
	s.latest.Store(snap)
	if up {
		s.ready.Store(true)
	} else {
		reason := s.notReadyReason()
		s.reason.Store(&reason)
	}
	s.ring.Add(historyPoint(start, up, out))
	return snap
}

// record updates a source's status and logs only its transitions, so a
// target that stays down does not flood the log.
func (s *Sampler) record(st *sourceStatus, err error) {
	wasUp, hadErr := st.up, st.lastErr != ""
	st.up = err == nil
	if err == nil {
		st.lastErr = ""
		if !wasUp {
			s.log.Info("source up", "source", st.name, "port", st.port)
		}
		return
	}
	st.lastErr = err.Error()
	if wasUp || !hadErr {
		s.log.Info("source down", "source", st.name, "error", st.lastErr)
	}
}

func (s *Sampler) notReadyReason() string {
	if len(s.status) == 0 {
		return "no source is enabled"
	}
	parts := make([]string, 0, len(s.status))
	for _, st := range s.status {
		msg := st.lastErr
		if msg == "" {
			msg = "backing off"
		}
		parts = append(parts, fmt.Sprintf("%s: %s", st.name, msg))
	}
	return "the app has not answered yet: " + strings.Join(parts, "; ")
}
