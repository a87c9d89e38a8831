//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopherscope/gopherscope/test/localcluster"
)

// testVersion is stamped into the binaries under test; injected pods record it.
const testVersion = "v0.0.0-e2e"

// Set by TestMain for every test.
var (
	repoRoot string
	bins     localcluster.Binaries
)

// TestMain runs the tests inside the real node's network namespace (it runs
// this test binary again there), builds the binaries once per run, so no
// test runs a stale one, and stops the node if a test started it. Where the
// node cannot run, the tests run here and those that need it fail with the
// reason.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if !localcluster.InNodeNetwork() {
		if node.unavailable = localcluster.NodeSupported(); node.unavailable == nil {
			code, err := localcluster.RunInNodeNetwork()
			if err != nil {
				fmt.Fprintln(os.Stderr, "e2e:", err)
				return 1
			}
			return code
		}
		fmt.Fprintln(os.Stderr, "e2e: the real node cannot run here; the tests that need it will fail:", node.unavailable)
	}
	var err error
	if repoRoot, err = filepath.Abs("../.."); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	buildDir, err := os.MkdirTemp("", "gopherscope-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer func() {
		if err := os.RemoveAll(buildDir); err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	bins, err = localcluster.Build(ctx, repoRoot, buildDir, testVersion,
		"./cmd/webhook", "./cmd/sidecar", "./cmd/demo-app", "./test/demo")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	fmt.Printf("e2e: built %d binaries in %s\n", len(bins), time.Since(start).Round(100*time.Millisecond))
	code := m.Run()
	if err := stopNode(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stop the real node:", err)
		code = max(code, 1)
	}
	return code
}
