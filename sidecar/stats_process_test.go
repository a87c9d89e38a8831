package sidecar

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/sidecar/diagnostics"
	"github.com/gopherscope/gopherscope/sidecar/findings"
)

// TestDiagnosticsStatsMatchTheApp runs the real sidecar binary in front of
// the demo app allocating 4 MiB/s, under a memory limit without GOMEMLIMIT,
// and compares the stats its diagnostics port serves with what the app
// reports about itself and with the findings of its metrics port.
func TestDiagnosticsStatsMatchTheApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes")
	}
	ca, client := diagnosticsClient(t)
	app := startShapedApp(t, []string{"GOMEMLIMIT="}, "expvar", "--alloc-rate=4MiB/s")
	env := append(slices.Clone(noLimits), sidecarconf.EnvAppMemoryLimit+"="+strconv.Itoa(memoryLimit),
		sidecarconf.EnvDiagnosticsCA+"="+string(ca.PEM), "POD_NAME=checkout", "POD_NAMESPACE=shop")
	sc := startSidecarWithEnv(t, app.debugPort, env, "--interval=1s", "--diagnostics-listen-address=127.0.0.1:0")
	serving := regexp.MustCompile(`"msg":"diagnostics serving".*"address":"(127\.0\.0\.1:[0-9]+)"`)
	var addr string
	waitFor(t, groundTruthTimeout, "the sidecar to say where it serves diagnostics", func() bool {
		if m := serving.FindStringSubmatch(sc.proc.log.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	readStats := func() api.StatsResponse {
		t.Helper()
		status, _, b := getBody(t, client, http.MethodGet, "https://"+addr+diagnostics.PathPrefix+api.Stats)
		var s api.StatsResponse
		if status != http.StatusOK || json.Unmarshal(b, &s) != nil {
			t.Fatalf("stats: %d %s", status, b)
		}
		return s
	}

	sc.nextSamples(t, 1)
	before, since := readSelf(t, app.appURL), time.Now()
	sc.nextSamples(t, 6)
	stats := readStats()
	if stats.Goroutines == nil {
		t.Fatalf("stats without goroutines: %+v", stats)
	}
	me, elapsed := readSelf(t, app.appURL), time.Since(since).Seconds()

	t.Logf("stats: %d goroutines (the app: %d), %v B/s allocated over %s (the app: %.0f), %v GC/s, pause p99 %v s over %d",
		int(*stats.Goroutines), me.Goroutines, ptrString(stats.AllocBytesPerSecond), stats.RateWindow, (me.TotalAlloc-before.TotalAlloc)/elapsed,
		ptrString(stats.GCPerSecond), ptrString(stats.GCPauseP99Seconds), stats.GCPauseCount)
	if stats.Namespace != "shop" || stats.Pod != "checkout" || stats.Interval != "1s" || !stats.TargetUp {
		t.Errorf("stats of %s/%s every %s, up %v; want shop/checkout every 1s, up", stats.Namespace, stats.Pod, stats.Interval, stats.TargetUp)
	}
	const goroutineTolerance = 10
	if stats.Goroutines == nil || !within(*stats.Goroutines, float64(me.Goroutines), goroutineTolerance) {
		t.Errorf("goroutines = %v, the app reports %d (tolerance %d)", ptrString(stats.Goroutines), me.Goroutines, goroutineTolerance)
	}
	if stats.HeapInuseBytes == nil || !between(*stats.HeapInuseBytes, before.HeapInuse, me.HeapInuse, max(1<<20, 0.25*max(before.HeapInuse, me.HeapInuse))) {
		t.Errorf("heap in use = %v, the app reports %v before the samples and %v after", ptrString(stats.HeapInuseBytes), before.HeapInuse, me.HeapInuse)
	}
	// The app's own rate over a span that holds the stats' window.
	wantAlloc := (me.TotalAlloc - before.TotalAlloc) / elapsed
	window, err := time.ParseDuration(stats.RateWindow)
	if err != nil || window < 3*time.Second || stats.AllocBytesPerSecond == nil || !within(*stats.AllocBytesPerSecond, wantAlloc, 0.3*wantAlloc) {
		t.Errorf("allocation rate %v B/s over %q, the app's own is %.0f B/s (±30%%)", ptrString(stats.AllocBytesPerSecond), stats.RateWindow, wantAlloc)
	}
	wantGCs := (me.NumGC - before.NumGC) / elapsed
	if stats.GCPerSecond == nil || !within(*stats.GCPerSecond, wantGCs, 1+0.5*wantGCs) {
		t.Errorf("GC rate %v/s, the app's own is %.2f/s", ptrString(stats.GCPerSecond), wantGCs)
	}
	if stats.GCPauseP99Seconds == nil || *stats.GCPauseP99Seconds <= 0 || *stats.GCPauseP99Seconds > 1 ||
		stats.GCPauseCount < min(int(before.NumGC), 256) || stats.GCPauseCount > min(int(me.NumGC), 256) {
		t.Errorf("pause p99 %v s over %d pauses; the app made %v GCs before and %v after", ptrString(stats.GCPauseP99Seconds), stats.GCPauseCount, before.NumGC, me.NumGC)
	}
	var kinds []findings.Kind
	for _, f := range stats.Findings {
		kinds = append(kinds, f.Kind)
	}
	if !slices.Contains(kinds, findings.NoGOMEMLIMIT) {
		t.Errorf("stats' findings %v, want no_gomemlimit among them", kinds)
	}
	if viaMetrics := sc.activeFindings(t); len(viaMetrics) != len(stats.Findings) {
		t.Errorf("stats have %d findings, %s %d", len(stats.Findings), FindingsPath, len(viaMetrics))
	}
}
