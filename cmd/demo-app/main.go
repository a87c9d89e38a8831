// Command demo-app is a small Go service for trying gopherscope: its debug
// server exposes expvar and net/http/pprof (or client_golang's /metrics, or
// pprof alone) and its app server has knobs that make goroutines and
// allocations move, leak goroutines, grow the heap or keep the GC busy. See
// package app's NewAppHandler for the endpoints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/zapr"
	"go.uber.org/zap"

	"github.com/gopherscope/gopherscope/cmd/demo-app/internal/app"
	"github.com/gopherscope/gopherscope/version"
)

func main() {
	os.Exit(run())
}

// run parses the flags, builds the logger and serves until SIGINT or
// SIGTERM; it returns the exit code.
func run() int {
	opts := app.DefaultOptions()
	fs := flag.NewFlagSet("demo-app", flag.ContinueOnError)
	opts.AddFlags(fs)
	exitAfter := fs.Duration("exit-after", 0, "exit 0 after this long, as a batch job would (0 = serve until stopped)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2 // the flag package has printed the error and the usage
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "demo-app: %v\n", err)
		return 2
	}
	zl, err := zap.NewProduction()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo-app: build logger: %v\n", err)
		return 1
	}
	defer func() { _ = zl.Sync() }()
	log := zapr.NewLogger(zl).WithValues("version", version.Version)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *exitAfter > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *exitAfter)
		defer cancel()
	}
	err = app.Run(ctx, opts, log, os.Stdout)
	var exit app.ExitRequested
	switch {
	case errors.As(err, &exit):
		return int(exit)
	case err != nil:
		log.Error(err, "demo-app stopped")
		return 1
	}
	return 0
}
