// Command webhook is gopherscope's admission webhook server: it injects the
// gopherscope sidecar into pods at creation. See webhook.Run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gopherscope/gopherscope/internal/logging"
	"github.com/gopherscope/gopherscope/webhook"
)

func main() {
	ctx := ctrl.SetupSignalHandler()
	err := execute(ctx, os.Args[1:], os.Getenv("POD_NAMESPACE"), os.Stdout, os.Stderr, run)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends (SIGTERM, SIGINT).
func run(ctx context.Context, opts *Options) error {
	log, flush, err := logging.New(opts.LogLevel, os.Stderr)
	if err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	defer flush()
	ctrl.SetLogger(log)
	klog.SetLogger(log)

	restConfig, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("find the API server: %w", err)
	}
	wopts := opts.webhookOptions()
	wopts.RestConfig = restConfig
	return webhook.Run(logf.IntoContext(ctx, log), wopts)
}
