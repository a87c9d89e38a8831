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

// TestMain builds the binaries once per run, so no test runs a stale one.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
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
	return m.Run()
}
