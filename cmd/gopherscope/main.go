// Command gopherscope is the user's command line: `gopherscope inject` adds
// the sidecar to manifests offline (GitOps, CI), `gopherscope top` and
// `gopherscope profile` read injected pods through the diagnostics API,
// `gopherscope version` prints the version. Installed as kubectl-gopherscope
// it is a kubectl plugin. The work is done in package cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gopherscope/gopherscope/cmd/gopherscope/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[0], os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}
