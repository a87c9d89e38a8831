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
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
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
	cfg, err := restConfig()
	if err != nil {
		return err
	}
	opts.RestConfig = cfg
	return diagnostics.Run(ctx, opts, log)
}

// restConfig finds the API server as client-go's loading rules say:
// $KUBECONFIG, ~/.kube/config, or in a pod its service account. Without a
// QPS of its own the client is not rate limited on our side (QPS -1): the
// server asks the API server once per diagnostics request (the pod, and a
// SubjectAccessReview), `top` over 100 pods is 200 requests at once, and
// the API server's priority and fairness is what should pace them.
// (controller-runtime's GetConfig does the same; its root package is not
// linked here, as its initializers alone add 3 MiB of resident memory.)
func restConfig() (*rest.Config, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(),
		&clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("find the API server: %w", err)
	}
	if cfg.QPS == 0 {
		cfg.QPS = -1
	}
	return cfg, nil
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
