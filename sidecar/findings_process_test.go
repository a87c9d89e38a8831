package sidecar

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar/findings"
)

// These tests run the real sidecar against the real demo app, turn the
// app's knobs that give its numbers each bad shape, and check that the
// matching finding appears on /metrics and /api/v1/findings with its
// evidence and clears when the knob is turned back. Thresholds are short
// so that each test takes well under 2 minutes; the waits are generous, as
// the machine may be loaded.

// findingTimeout bounds the wait for a finding to appear or clear.
const findingTimeout = 60 * time.Second

// memoryLimit is the container memory limit the memory tests give the
// sidecar: 128 MiB.
const memoryLimit = 128 << 20

var demoListening = regexp.MustCompile(`demo-app listening debug=127\.0\.0\.1:(\d+) app=(127\.0\.0\.1:\d+) mode=(\w+)`)

// startShapedApp starts the demo app with env added to the test's, each
// server on a port it picks itself, and waits until it serves.
func startShapedApp(t *testing.T, env []string, mode string, args ...string) *demoApp {
	t.Helper()
	args = append([]string{"--debug-address=127.0.0.1:0", "--address=127.0.0.1:0", "--mode=" + mode}, args...)
	d := &demoApp{mode: mode, proc: startWithEnv(t, env, "demo-app", args...)}
	waitFor(t, groundTruthTimeout, "the demo app to say where it listens", func() bool {
		m := demoListening.FindStringSubmatch(d.proc.log.String())
		if m == nil {
			return false
		}
		port, err := strconv.Atoi(m[1])
		d.debugPort, d.debugAddr, d.addr, d.appURL = port, "127.0.0.1:"+m[1], m[2], "http://"+m[2]
		return err == nil
	})
	return d
}

// turn sends method to the demo app's knob at path and fails unless it
// answers 200.
func (d *demoApp) turn(t *testing.T, method, path string) {
	t.Helper()
	if code, body := httpDo(t, method, d.appURL+path); code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, code, body)
	}
}

// activeFindings reads the sidecar's /api/v1/findings.
func (s *sidecarProcess) activeFindings(t *testing.T) []findings.Finding {
	t.Helper()
	code, body := httpDo(t, http.MethodGet, s.url+FindingsPath)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", FindingsPath, code, body)
	}
	var resp FindingsResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("decode %s: %v\n%s", FindingsPath, err, body)
	}
	return resp.Findings
}

// finding returns the active finding of kind, if any.
func (s *sidecarProcess) finding(t *testing.T, kind findings.Kind) (findings.Finding, bool) {
	t.Helper()
	active := s.activeFindings(t)
	i := slices.IndexFunc(active, func(f findings.Finding) bool { return f.Kind == kind })
	if i < 0 {
		return findings.Finding{}, false
	}
	return active[i], true
}

// waitForFinding waits until the sidecar reports a finding of kind, checks
// that /metrics has it as gopherscope_finding{kind,severity} 1, and
// returns it as /api/v1/findings shows it.
func (s *sidecarProcess) waitForFinding(t *testing.T, kind findings.Kind) findings.Finding {
	t.Helper()
	var f findings.Finding
	waitFor(t, findingTimeout, "a "+string(kind)+" finding", func() bool {
		var ok bool
		f, ok = s.finding(t, kind)
		return ok
	})
	series := fmt.Sprintf("gopherscope_finding{kind=%s,severity=%s}", f.Kind, f.Severity)
	waitFor(t, groundTruthTimeout, series+" on /metrics", func() bool {
		return scrape(t, s.url+"/metrics").series[series] == 1
	})
	return f
}

// waitForClear waits until the sidecar no longer reports a finding of kind,
// on /api/v1/findings and on /metrics.
func (s *sidecarProcess) waitForClear(t *testing.T, kind findings.Kind) {
	t.Helper()
	waitFor(t, findingTimeout, "the "+string(kind)+" finding to clear", func() bool {
		_, ok := s.finding(t, kind)
		return !ok && !strings.Contains(string(scrape(t, s.url+"/metrics").raw), `gopherscope_finding{kind="`+string(kind)+`"`)
	})
}

// figure returns the value of f's evidence figure named name.
func figure(t *testing.T, f findings.Finding, name string) float64 {
	t.Helper()
	for _, fig := range f.Evidence.Figures {
		if fig.Name == name {
			return fig.Value
		}
	}
	t.Fatalf("%s finding has no figure %q: %+v", f.Kind, name, f.Evidence.Figures)
	return 0
}

// The short thresholds each test gives the sidecar; the idle app's test
// gives all of them at once. The GC churn below gives a GC share of 0.1 to
// 0.25 on a loaded 2-core machine (the share of GOMAXPROCS × wall time, so
// a process starved of CPU shows less), an idle app under 0.01.
const (
	leakThresholds   = "leak-window=3s,leak-windows=3,leak-min-growth=20"
	memoryThresholds = "memory-sustain=3s"
	gcThresholds     = "gc-window=10s,gc-share=0.05"
)

// noLimits are the sidecar's environment for an app container without
// limits or runtime settings, whatever the test's environment holds.
var noLimits = []string{sidecarconf.EnvAppMemoryLimit + "=", sidecarconf.EnvAppCPULimitMillis + "=", sidecarconf.EnvAppGOMEMLIMIT + "="}

func TestFindingsGoroutineLeakAppearsWhileTheAppLeaksAndClearsWhenItStops(t *testing.T) {
	t.Parallel() // these wait on windows; the GC churn test, which burns CPU, runs alone
	app := startShapedApp(t, nil, "expvar")
	sc := startSidecarWithEnv(t, app.debugPort, noLimits, "--interval=1s",
		"--findings="+leakThresholds)
	if f, ok := sc.finding(t, findings.GoroutineLeak); ok {
		t.Fatalf("a leak is suspected before the app leaks: %+v", f)
	}

	app.turn(t, http.MethodPost, "/leak?rate=20")
	f := sc.waitForFinding(t, findings.GoroutineLeak)
	if f.Severity != findings.Warning || !f.Evidence.From.Before(f.Evidence.To) || f.Advice == "" {
		t.Errorf("leak finding = %+v, want a warning with a window and advice", f)
	}
	// Three windows of 3 s at 20 goroutines/s: the minimum grows by about 120.
	if growth := figure(t, f, "growth of the minimum"); growth < 20 {
		t.Errorf("growth of the minimum = %v goroutines, want at least the threshold's 20", growth)
	}
	if rate := figure(t, f, "growth rate"); rate <= 0 || rate > 40 {
		t.Errorf("growth rate = %v goroutines/s while leaking 20/s, want it positive and at most 40", rate)
	}

	// The sidecar reads the app's goroutine profile as the trend fires and
	// names the stacks that hold the growth, largest share first.
	waitFor(t, findingTimeout, "the leak finding to name its stacks", func() bool {
		f, _ = sc.finding(t, findings.GoroutineLeak)
		return len(f.Stacks) > 0
	})
	if top := f.Stacks[0]; !strings.HasSuffix(top.Function, "/cmd/demo-app/internal/app.leakedRequest") || top.Count < 20 {
		t.Errorf("the leak's first stack is %d goroutines in %q, want at least 20 in the demo app's leakedRequest; stacks: %+v",
			top.Count, top.Function, f.Stacks)
	}

	app.turn(t, http.MethodDelete, "/leak")
	sc.waitForClear(t, findings.GoroutineLeak)
}

func TestFindingsMemoryNearTheLimitAppearsWithTheTimeLeftAndClearsWhenReleased(t *testing.T) {
	t.Parallel() // these wait on windows; the GC churn test, which burns CPU, runs alone
	app := startShapedApp(t, []string{"GOMEMLIMIT="}, "expvar")
	env := append(slices.Clone(noLimits), sidecarconf.EnvAppMemoryLimit+"="+strconv.Itoa(memoryLimit))
	sc := startSidecarWithEnv(t, app.debugPort, env, "--interval=1s", "--findings="+memoryThresholds)

	// 115 MiB of a 128 MiB limit (90%), reached in about 15 s.
	app.turn(t, http.MethodPost, "/grow?rate=8MiB/s&up-to=115MiB")
	f := sc.waitForFinding(t, findings.MemoryNearLimit)
	if f.Severity != findings.Warning && f.Severity != findings.Critical {
		t.Errorf("severity %q, want warning or critical", f.Severity)
	}
	if limit := figure(t, f, "container memory limit"); limit != memoryLimit {
		t.Errorf("container memory limit figure = %v, want %d", limit, memoryLimit)
	}
	if share := figure(t, f, "share of the limit"); share < 0.85 || share > 1.1 {
		t.Errorf("share of the limit = %v, want it between the threshold 0.85 and about the whole limit", share)
	}
	if window := f.Evidence.To.Sub(f.Evidence.From); window < 3*time.Second {
		t.Errorf("evidence window %s, want at least the 3 s the memory must stay above the share", window)
	}
	waitFor(t, findingTimeout, "a time left at the growth rate", func() bool {
		f, _ = sc.finding(t, findings.MemoryNearLimit)
		return slices.ContainsFunc(f.Evidence.Figures, func(fig findings.Figure) bool {
			return fig.Name == "time left at this growth" && fig.Value >= 0
		})
	})

	app.turn(t, http.MethodDelete, "/grow")
	sc.waitForClear(t, findings.MemoryNearLimit)
}

func TestFindingsGCPressureAppearsWhileTheGCChurnsAndClearsWhenItStops(t *testing.T) {
	tests := []struct {
		name, mode           string
		appArgs, sidecarArgs []string
	}{
		{name: "from runtime/metrics' GC CPU through client_golang", mode: "prometheus",
			appArgs: []string{"--cpu-metrics"}, sidecarArgs: []string{"--metrics-path=/metrics"}},
		{name: "from expvar's GCCPUFraction", mode: "expvar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One P, so the churn needs a fraction of a core to keep the GC
			// busy. The app allocates a little all along, as a service does:
			// both sources update the GC's CPU only when a GC runs.
			app := startShapedApp(t, []string{"GOMAXPROCS=1"}, tt.mode, append([]string{"--alloc-rate=4MiB/s"}, tt.appArgs...)...)
			sc := startSidecarWithEnv(t, app.debugPort, noLimits, append([]string{"--interval=1s", "--findings=" + gcThresholds}, tt.sidecarArgs...)...)

			app.turn(t, http.MethodPost, "/gc-churn?rate=192MiB/s")
			f := sc.waitForFinding(t, findings.GCPressure)
			share := figure(t, f, "GC share of CPU")
			t.Logf("the GC's share of the CPU over %s while churning: %.3f", f.Evidence.To.Sub(f.Evidence.From), share)
			if share < 0.05 || share > 1 || figure(t, f, "threshold") != 0.05 {
				t.Errorf("GC share of CPU = %v against threshold %v, want at least 0.05 and at most 1", share, figure(t, f, "threshold"))
			}
			if window := f.Evidence.To.Sub(f.Evidence.From); window < 10*time.Second {
				t.Errorf("evidence window %s, want at least the 10 s GC window", window)
			}

			app.turn(t, http.MethodDelete, "/gc-churn")
			sc.waitForClear(t, findings.GCPressure)
		})
	}
}

func TestFindingsAnIdleAppWithAMemoryLimitRaisesOnlyNoGOMEMLIMIT(t *testing.T) {
	t.Parallel() // these wait on windows; the GC churn test, which burns CPU, runs alone
	tests := []struct {
		name, mode   string
		sidecarArgs  []string
		wantSeverity findings.Severity
	}{
		{name: "expvar cannot show the limit, so the advice is an unverified hint", mode: "expvar", wantSeverity: findings.Info},
		{name: "client_golang proves there is no limit", mode: "prometheus", sidecarArgs: []string{"--metrics-path=/metrics"}, wantSeverity: findings.Warning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := startShapedApp(t, []string{"GOMEMLIMIT="}, tt.mode)
			env := append(slices.Clone(noLimits), sidecarconf.EnvAppMemoryLimit+"="+strconv.Itoa(memoryLimit))
			// The short thresholds of the other tests, which must not
			// misfire on an idle app either.
			args := append([]string{"--interval=1s",
				"--findings=" + strings.Join([]string{leakThresholds, memoryThresholds, gcThresholds}, ",")}, tt.sidecarArgs...)
			sc := startSidecarWithEnv(t, app.debugPort, env, args...)

			f := sc.waitForFinding(t, findings.NoGOMEMLIMIT)
			if f.Severity != tt.wantSeverity || figure(t, f, "container memory limit") != memoryLimit {
				t.Errorf("no_gomemlimit finding = %+v, want severity %s and the 128 MiB limit", f, tt.wantSeverity)
			}
			want := fmt.Sprintf("gopherscope_finding{kind=%s,severity=%s}", findings.NoGOMEMLIMIT, tt.wantSeverity)
			for range 20 {
				e := sc.nextSamples(t, 1)
				var raised []string
				for series := range e.series {
					if strings.HasPrefix(series, "gopherscope_finding{") {
						raised = append(raised, series)
					}
				}
				if len(raised) != 1 || raised[0] != want {
					t.Fatalf("an idle app raised %q, want only %s", raised, want)
				}
				if active := sc.activeFindings(t); len(active) != 1 || active[0].Kind != findings.NoGOMEMLIMIT {
					t.Fatalf("an idle app's /api/v1/findings = %+v, want only no_gomemlimit", active)
				}
			}
		})
	}
}
