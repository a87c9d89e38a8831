// Command sidecar is gopherscope's injected sidecar: it reads the Go runtime
// figures the app already exposes (expvar, the pprof index, its own
// Prometheus endpoint) and serves them normalized to client_golang's names on
// /metrics, with a short history and a page. See package sidecar.
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

	"github.com/gopherscope/gopherscope/sidecar"
	"github.com/gopherscope/gopherscope/version"
)

func main() {
	os.Exit(run())
}

// run parses the flags, builds the logger and serves until SIGINT or
// SIGTERM; it returns the exit code.
func run() int {
	opts := newOptions()
	fs := flag.NewFlagSet("sidecar", flag.ContinueOnError)
	opts.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2 // the flag package has printed the error and the usage
	}
	if opts.PrintVersion {
		fmt.Println(version.Version)
		return 0
	}
	limitProcs(os.Getenv)
	opts.Sidecar.PodName, opts.Sidecar.PodNamespace = os.Getenv(envPodName), os.Getenv(envPodNamespace)
	opts.Sidecar.UserAgent = "gopherscope-sidecar/" + version.Version
	if err := opts.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "sidecar: %v\n", err)
		return 2
	}
	zl, err := newZapLogger(opts.LogLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sidecar: build logger: %v\n", err)
		return 1
	}
	defer func() { _ = zl.Sync() }()
	log := zapr.NewLogger(zl).WithValues("version", version.Version)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sidecar.Run(ctx, opts.Sidecar, log); err != nil {
		log.Error(err, "sidecar stopped")
		return 1
	}
	log.Info("sidecar stopped")
	return 0
}
