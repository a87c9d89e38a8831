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
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/internal/logging"
	"github.com/gopherscope/gopherscope/sidecar"
	"github.com/gopherscope/gopherscope/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, sidecar.Run)
	stop()
	os.Exit(code)
}

// runFunc serves with parsed, valid options until ctx ends.
type runFunc func(ctx context.Context, opts sidecar.Options, log logr.Logger) error

// Exit codes of execute.
const (
	exitOK    = 0
	exitError = 1 // the sidecar failed
	exitUsage = 2 // bad flags or options, as the flag package exits
)

// execute parses args, then prints the version or builds the logger (on
// stderr) and calls run: the command's whole behaviour, without a server,
// so tests pass their own run. getenv reads the environment (the pod's
// downward API, GOMAXPROCS and GOMEMLIMIT). It returns the exit code.
func execute(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, run runFunc) int {
	opts := newOptions()
	fs := flag.NewFlagSet("sidecar", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage // the flag package has printed the error and the usage
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "sidecar: unexpected arguments: %q\n", fs.Args())
		return exitUsage
	}
	if opts.PrintVersion {
		_, _ = fmt.Fprintln(stdout, version.Version)
		return exitOK
	}
	limitProcs(getenv)
	opts.Sidecar.PodName, opts.Sidecar.PodNamespace = getenv(envPodName), getenv(envPodNamespace)
	opts.Sidecar.UserAgent = "gopherscope-sidecar/" + version.Version
	opts.Sidecar.Diagnostics.ClientCAs = []byte(getenv(sidecarconf.EnvDiagnosticsCA))
	if err := opts.Validate(); err != nil {
		_, _ = fmt.Fprintf(stderr, "sidecar: %v\n", err)
		return exitUsage
	}
	log, flush, err := logging.New(opts.LogLevel, stderr)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "sidecar: --log-level: %v\n", err)
		return exitUsage
	}
	defer flush()
	log = log.WithValues("version", version.Version)
	if limit, err := setMemoryLimit(getenv); err != nil {
		log.Info("soft memory limit not set", "error", err.Error())
	} else if limit > 0 {
		log.Info("soft memory limit set", "bytes", limit)
	}
	// The app container's limits, for the findings; one that does not
	// parse is unknown, and the sidecar runs without it.
	if opts.Sidecar.Limits, err = sidecar.LimitsFromEnv(getenv); err != nil {
		log.Info("some of the app container's limits are unknown", "error", err.Error())
	}
	if err := run(ctx, opts.Sidecar, log); err != nil {
		log.Error(err, "sidecar stopped")
		return exitError
	}
	log.Info("sidecar stopped")
	return exitOK
}
