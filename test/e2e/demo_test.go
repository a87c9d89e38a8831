//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoRunsEndToEnd runs `make demo`'s program in its process mode (the
// fallback where the real node cannot run) for a short while, as a newcomer
// would (but with DEMO_DURATION), and checks that it told the whole story:
// the webhook's additions, the local processes, where to look, rows of
// moving metrics and a clean stop.
func TestDemoRunsEndToEnd(t *testing.T) {
	text := runDemo(t, "process", "36s")
	for _, want := range []string{
		"Mode: process",
		"[6/6] Running the pod's containers as local processes",
		"+ native sidecar  gopherscope-sidecar",
		"--interval=1s",
		"+ annotation      gopherscope.io/status: ",
		"+ annotation      prometheus.io/scrape: true",
		"  annotation      gopherscope.io/interval: 1s  yours, kept",
		"the sidecar's page    http://127.0.0.1:",
		"the webhook's log     ",
		"POST /goroutines?n=500",
		"+ env             GOMEMLIMIT=241591910  (on app)",
		"POST /leak?rate=25",
		"finding goroutine_leak (warning): ",
		"goroutines wait in github.com/gopherscope/gopherscope/cmd/demo-app/internal/app.leakedRequest",
		"Stopping: the pod's processes, the webhook, kube-apiserver and etcd.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	checkDemoRows(t, text, 5)
	checkLeakNamedFirst(t, text)
}

// TestDemoRunsOnTheRealNode runs `make demo`'s program as `make demo` runs it
// here: on a real node, with the chart's webhook pod, a Deployment whose pod
// the kubelet runs with its sidecar, and metrics read at the pod's address.
// One node runs at a time, so the tests' shared node is stopped first (the
// next test that needs it starts it again).
func TestDemoRunsOnTheRealNode(t *testing.T) {
	if node.unavailable != nil {
		t.Fatalf("make demo runs on the real node here, which cannot run: %v", node.unavailable)
	}
	if err := resetNode(); err != nil {
		t.Fatalf("stop the tests' shared node: %v", err)
	}
	text := runDemo(t, "node", "36s")
	for _, want := range []string{
		"Mode: node",
		"helm install gopherscope charts/gopherscope",
		"Pod checkout-",
		"2/2 containers ready",
		"+ native sidecar  gopherscope-sidecar",
		"--interval=1s",
		"POST /goroutines?n=500",
		"+ env             GOMEMLIMIT=241591910  (on app)",
		"POST /leak?rate=25",
		"finding goroutine_leak (warning): ",
		"goroutines wait in github.com/gopherscope/gopherscope/cmd/demo-app/internal/app.leakedRequest",
		"Stopped everything in",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	checkDemoRows(t, text, 5)
	checkLeakNamedFirst(t, text)
}

// runDemo runs the demo program in mode for duration and returns its output.
func runDemo(t *testing.T, mode, duration string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins["demo"], "--mode="+mode, "--bin-dir="+filepath.Dir(bins["demo"]), "--repo-root="+repoRoot, "--row-every=2s")
	cmd.Env = append(cmd.Environ(), "DEMO_DURATION="+duration)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, text)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the demo's output:\n%s", text)
		}
	})
	return text
}

// checkDemoRows checks the demo's rows of metrics: at least minRows, and the
// 500 goroutines the demo starts in the app 6s in.
func checkDemoRows(t *testing.T, text string, minRows int) {
	t.Helper()
	// A row: time, goroutines, heap, GC count, alloc rate, findings.
	rows := regexp.MustCompile(`(?m)^\s+\d+:\d\d\s+(\d+)\s+[\d.]+ [KMG]?i?B\s+\d+\s+(-|[\d.]+ [KMG]?i?B/s)\s+(-|[a-z_,]+)`).FindAllStringSubmatch(text, -1)
	if len(rows) < minRows {
		t.Errorf("the demo printed %d rows of metrics every 2s, want at least %d", len(rows), minRows)
	}
	maxGoroutines := 0
	for _, r := range rows {
		n, _ := strconv.Atoi(r[1])
		maxGoroutines = max(maxGoroutines, n)
	}
	if maxGoroutines < 500 {
		t.Errorf("go_goroutines peaked at %d in the demo's rows, want at least 500 after it started 500", maxGoroutines)
	}
}

// checkLeakNamedFirst checks that the leak finding the demo raises names the
// demo app's leaking function first, not the burst of 500 goroutines
// stopped before the leak began.
func checkLeakNamedFirst(t *testing.T, text string) {
	t.Helper()
	if !regexp.MustCompile(`finding goroutine_leak \(warning\): [^\n]*\n\s+\d+ goroutines wait in \S+\.leakedRequest\n`).MatchString(text) {
		t.Error("the demo's leak finding does not name leakedRequest first")
	}
}
