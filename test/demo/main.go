// Command demo is `make demo`: gopherscope end to end on the embedded local
// cluster. Where it can (root, containerd), it starts a real single-node
// cluster, installs the Helm chart (the webhook runs as its own pod), creates
// a Deployment of a Go service in a labelled namespace, shows what the
// webhook added to its pod, and prints the sidecar's normalized metrics, read
// at the pod's address, as they change, until Ctrl-C (or DEMO_DURATION).
// Elsewhere it says why and runs the same story with the webhook and the
// pod's containers as local processes.
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
	"github.com/gopherscope/gopherscope/test/localcluster"
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
	if err := opts.ResolveMode(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		return 2
	}
	if opts.Mode == demo.ModeNode && !localcluster.InNodeNetwork() {
		// The node, its pods and this demo's clients live in a network
		// namespace of their own: run this program again inside it.
		code, err := localcluster.RunInNodeNetwork()
		if err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			return 1
		}
		return code
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
