package sidecar

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/go-logr/logr"

	"github.com/gopherscope/gopherscope/sidecar/history"
)

// Run starts the sidecar: it listens on opts.ListenAddress, samples the app
// in the background and serves until ctx ends, then shuts down gracefully.
func Run(ctx context.Context, opts Options, log logr.Logger) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %q: %w", opts.ListenAddress, err)
	}
	return Serve(ctx, ln, opts, log)
}

// Serve is Run on an existing listener, which it closes.
func Serve(ctx context.Context, ln net.Listener, opts Options, log logr.Logger) error {
	ring := history.New(history.CapacityFor(opts.History, opts.Interval))
	sampler := NewSampler(opts, ring, log)
	defer sampler.Close()
	srv := newServer(NewMux(sampler, ring, opts, log))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { sampler.Run(ctx) })
	defer wg.Wait()
	if opts.Diagnostics.Enabled() {
		// The app's metrics matter more than its profiles: a diagnostics
		// port that cannot serve (a bad CA bundle, its port taken) is
		// logged, not fatal.
		wg.Go(func() {
			if err := serveDiagnostics(ctx, opts, sampler, ring, log); err != nil {
				log.Error(err, "diagnostics port not served")
			}
		})
	}

	log.Info("sidecar serving", "address", ln.Addr().String(), "targetHost", opts.TargetHost,
		"targetPorts", opts.TargetPorts, "interval", opts.Interval.String())
	err := serve(ctx, srv, ln)
	cancel()
	return err
}
