// Command diagnostics is gopherscope's diagnostics API server: the
// aggregated API diagnostics.gopherscope.io, through which users of the
// Kubernetes API take profiles, dumps and traces of injected pods, as RBAC
// allows them. See package diagnostics.
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
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gopherscope/gopherscope/diagnostics"
	"github.com/gopherscope/gopherscope/internal/logging"
	"github.com/gopherscope/gopherscope/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr, run)
	stop()
	os.Exit(code)
}

// runFunc serves with valid options until ctx ends.
type runFunc func(ctx context.Context, opts diagnostics.RunOptions, log logr.Logger) error

// run finds the API server and serves.
func run(ctx context.Context, opts diagnostics.RunOptions, log logr.Logger) error {
	cfg, err := diagnostics.RestConfig()
	if err != nil {
		return err
	}
	opts.RestConfig = cfg
	return diagnostics.Run(ctx, opts, log)
}

// execute parses args, builds the logger and calls run; it returns the
// exit code: 0, 1 when the server fails, 2 for bad flags.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer, run runFunc) int {
	opts := newOptions(os.Getenv("POD_NAMESPACE"))
	fs := flag.NewFlagSet("diagnostics", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if opts.PrintVersion {
		_, _ = fmt.Fprintln(stdout, version.Version)
		return 0
	}
	if err := opts.Validate(fs.Args()); err != nil {
		_, _ = fmt.Fprintf(stderr, "diagnostics: %v\n", err)
		return 2
	}
	log, flush, err := logging.New(opts.LogLevel, stderr)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "diagnostics: --log-level: %v\n", err)
		return 2
	}
	defer flush()
	log = log.WithValues("version", version.Version)
	ctrllog.SetLogger(log) // the certificate watchers' logs
	klog.SetLogger(log)
	if err := run(ctx, opts.Run, log); err != nil {
		log.Error(err, "diagnostics API stopped")
		return 1
	}
	return 0
}
