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

// TestDemoRunsEndToEnd runs `make demo`'s program for a short while, as a
// newcomer would (but with DEMO_DURATION), and checks that it told the whole
// story: the webhook's additions, the local processes, where to look, rows
// of moving metrics and a clean stop.
func TestDemoRunsEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins["demo"], "--bin-dir="+filepath.Dir(bins["demo"]), "--repo-root="+repoRoot, "--row-every=2s")
	cmd.Env = append(cmd.Environ(), "DEMO_DURATION=16s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, text)
	}
	for _, want := range []string{
		"[6/6] Running the pod's containers as local processes",
		"+ native sidecar  gopherscope-sidecar",
		"--interval=1s",
		"+ annotation      gopherscope.io/status: ",
		"+ annotation      prometheus.io/scrape: true",
		"  annotation      gopherscope.io/interval: 1s  yours, kept",
		"the sidecar's page    http://127.0.0.1:",
		"the webhook's log     ",
		"POST /goroutines?n=500",
		"Stopping: the pod's processes, the webhook, kube-apiserver and etcd.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	// A row: time, goroutines, heap, GC count, alloc rate.
	rows := regexp.MustCompile(`(?m)^\s+\d+:\d\d\s+(\d+)\s+[\d.]+ [KMG]?i?B\s+\d+\s+(-|[\d.]+ [KMG]?i?B/s)`).FindAllStringSubmatch(text, -1)
	if len(rows) < 5 {
		t.Errorf("the demo printed %d rows of metrics in 16s every 2s, want at least 5", len(rows))
	}
	// The demo starts 500 goroutines in the app 6s in: the sidecar shows them.
	maxGoroutines := 0
	for _, r := range rows {
		n, _ := strconv.Atoi(r[1])
		maxGoroutines = max(maxGoroutines, n)
	}
	if maxGoroutines < 500 {
		t.Errorf("go_goroutines peaked at %d in the demo's rows, want at least 500 after it started 500", maxGoroutines)
	}
	if t.Failed() {
		t.Logf("the demo's output:\n%s", text)
	}
}
