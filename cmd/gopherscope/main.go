// Command gopherscope is the user's command line: `gopherscope inject` adds
// the sidecar to manifests offline (GitOps, CI), `gopherscope version` prints
// the version. The work is done in package cli.
package main

import (
	"os"

	"github.com/gopherscope/gopherscope/cmd/gopherscope/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
