package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// fetchFloorFlag makes benchreport run as the sidecar's CPU floor instead.
const fetchFloorFlag = "fetch-floor"

// runFetchFloor is the least a sidecar can do: GET each URL once per
// interval over one keep-alive client and discard the bodies, until ctx
// ends. benchreport runs itself in this mode as a separate process, so the
// sidecar's CPU per sample has a floor measured the same way on the same
// machine.
func runFetchFloor(ctx context.Context, urls []string, interval time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for _, u := range urls {
			if _, err := rig.Scrape(ctx, client, u); err != nil && ctx.Err() == nil {
				return err
			}
		}
	}
}

// startFetchFloor starts this binary in fetch-floor mode against app's
// expvar and pprof index, on one P as the sidecar runs (cmd/sidecar) unless
// env, the sidecar's extra environment, says otherwise.
func startFetchFloor(app *rig.DemoApp, workDir string, env []string) (*rig.Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the benchreport binary: %w", err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", app.DebugPort)
	urls := []string{base + "/debug/vars", base + "/debug/pprof/"}
	return rig.StartProcess("fetch-floor", self, []string{
		"--" + fetchFloorFlag + "=" + strings.Join(urls, ","), "--fetch-interval=" + sampleInterval.String(),
	}, append([]string{"GOMAXPROCS=1"}, env...), workDir)
}
