package app

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// ExitRequested is Run's error after POST /exit: the process should exit
// with this code.
type ExitRequested int

func (e ExitRequested) Error() string { return fmt.Sprintf("exit %d requested", int(e)) }

// shutdownTimeout bounds the graceful shutdown of both servers.
const shutdownTimeout = 5 * time.Second

// Run serves the debug and app servers until ctx is done, then shuts them
// down gracefully and returns nil. Once both listen it writes one line to
// out: "demo-app listening debug=ADDR app=ADDR mode=MODE", with the bound
// addresses (so port 0 can be used). Background churn runs if opts ask.
func Run(ctx context.Context, opts Options, log logr.Logger, out io.Writer) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	debugHandler, err := NewDebugHandler(opts.Mode, opts.CPUMetrics)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	debugLn, err := lc.Listen(ctx, "tcp", opts.DebugAddress)
	if err != nil {
		return fmt.Errorf("listen on debug address %q: %w", opts.DebugAddress, err)
	}
	appLn, err := lc.Listen(ctx, "tcp", opts.Address)
	if err != nil {
		_ = debugLn.Close()
		return fmt.Errorf("listen on app address %q: %w", opts.Address, err)
	}

	var knobs Knobs
	defer knobs.StopAll()
	if err := startKnobs(&knobs, opts); err != nil {
		_, _ = debugLn.Close(), appLn.Close()
		return err
	}
	exits := make(chan int, 1)
	servers := []*http.Server{
		{Handler: debugHandler, ReadHeaderTimeout: 10 * time.Second},
		{Handler: NewAppHandler(&knobs, exits, log), ReadHeaderTimeout: 10 * time.Second},
	}
	errc := make(chan error, len(servers))
	for i, ln := range []net.Listener{debugLn, appLn} {
		go func() { errc <- servers[i].Serve(ln) }()
	}
	if _, err := fmt.Fprintf(out, "demo-app listening debug=%s app=%s mode=%s\n", debugLn.Addr(), appLn.Addr(), opts.Mode); err != nil {
		log.Error(err, "write the listening line")
	}
	log.Info("serving", "debugAddress", debugLn.Addr().String(), "address", appLn.Addr().String(), "mode", opts.Mode,
		"churnGoroutines", opts.ChurnGoroutines, "allocRate", opts.AllocRate.String(), "leakRate", opts.LeakRate,
		"growRate", opts.GrowRate.String(), "growUpTo", opts.GrowUpTo.String(), "gcChurnRate", opts.GCChurnRate.String())

	churnCtx, stopChurn := context.WithCancel(ctx)
	var churn sync.WaitGroup
	if opts.ChurnGoroutines {
		churn.Go(func() { churnGoroutines(churnCtx, churnPeriod) })
	}
	if opts.AllocRate > 0 {
		churn.Go(func() { churnAllocations(churnCtx.Done(), opts.AllocRate) })
	}
	defer func() { stopChurn(); churn.Wait() }()

	var serveErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case serveErr = <-errc:
		serveErr = fmt.Errorf("serve: %w", serveErr)
	case code := <-exits:
		serveErr = ExitRequested(code)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil {
			// A slow request (a 30 s CPU profile) must not turn a clean stop into a failure.
			log.Info("closing connections that outlived the shutdown timeout", "reason", err.Error())
			_ = s.Close()
		}
	}
	return serveErr
}

// startKnobs turns the knobs that opts set from the start.
func startKnobs(k *Knobs, opts Options) error {
	if opts.LeakRate > 0 {
		if _, err := k.Leak.Start(opts.LeakRate); err != nil {
			return fmt.Errorf("--leak-rate: %w", err)
		}
	}
	if opts.GrowRate > 0 {
		if _, err := k.Growth.Start(opts.GrowRate, opts.GrowUpTo); err != nil {
			return fmt.Errorf("--grow-rate: %w", err)
		}
	}
	if opts.GCChurnRate > 0 {
		if err := k.GCChurn.Start(opts.GCChurnRate, DefaultGCChurnLive); err != nil {
			return fmt.Errorf("--gc-churn-rate: %w", err)
		}
	}
	return nil
}
