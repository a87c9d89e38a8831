package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

func main() {
	os.Exit(execute())
}

// execute parses the flags and runs the report (or, internally, the
// sidecar's CPU floor or the diagnostics API's measurements on the real
// node); it returns the exit code.
func execute() int {
	opts := &options{}
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	opts.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// envtest and client-go log through controller-runtime; the report
	// says what happened instead.
	logf.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if opts.FetchFloor != "" {
		if err := runFetchFloor(ctx, strings.Split(opts.FetchFloor, ","), opts.FetchEvery); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport fetch floor:", err)
			return 1
		}
		return 0
	}
	if opts.DiagNode != "" {
		if err := runDiagnosticsNode(ctx, opts); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport diagnostics node:", err)
			return 1
		}
		return 0
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		return 2
	}
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		return 1
	}
	return 0
}
