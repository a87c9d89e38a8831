// Command demo is `make demo`: gopherscope end to end on the embedded local
// control plane. It starts kube-apiserver and etcd, installs the Helm chart,
// runs the webhook, creates a Go pod in a labelled namespace, shows what the
// webhook added, runs the pod's app and sidecar as local processes exactly
// as the stored spec says, prints their normalized metrics as they change
// and serves the sidecar's page until Ctrl-C (or DEMO_DURATION).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gopherscope/gopherscope/test/demo/internal/demo"
)

func main() {
	os.Exit(run())
}

// run parses the flags and runs the demo until it ends; it returns the exit code.
func run() int {
	opts, err := demo.NewOptions(os.Getenv("DEMO_DURATION"), os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 2
	}
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	opts.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2 // the flag package has printed the error and the usage
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 2
	}
	// envtest and client-go log through controller-runtime; the demo tells
	// its own story instead.
	logf.SetLogger(logr.Discard())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 1
	}
	return 0
}
