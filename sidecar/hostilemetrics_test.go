package sidecar

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar/history"
)

// containerMemoryLimit is the sidecar container's default memory limit
// (64Mi), which the injector passes to it through the downward API.
const containerMemoryLimit = 64 << 20

// hostileMetrics are answers of an app's Prometheus endpoint that once took
// the sidecar far past its container's memory limit.
func hostileMetrics() []struct {
	name string
	// overCap says the body is larger than the sidecar's 8 MiB body cap,
	// so the read fails and the source is down.
	overCap bool
	write   func(w *bufio.Writer) error
} {
	lines := func(n int, format string) []byte {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.Bytes()
	}
	body := func(parts ...[]byte) func(w *bufio.Writer) error {
		all := bytes.Join(parts, nil)
		return func(w *bufio.Writer) error {
			_, err := w.Write(all)
			return err
		}
	}
	return []struct {
		name    string
		overCap bool
		write   func(w *bufio.Writer) error
	}{
		{name: "350,000 series of one family in 7 MB", write: body(
			[]byte("# HELP go_x A family of many series.\n# TYPE go_x gauge\n"),
			lines(350000, "go_x{id=\"%06d\"} 1\n"),
		)},
		{name: "130,000 families of one series each", write: body(lines(130000, "# HELP go_x%06[1]d x.\n# TYPE go_x%06[1]d gauge\ngo_x%06[1]d 1\n"))},
		{name: "one histogram of 200,000 buckets", write: body(
			[]byte("# TYPE go_x histogram\n"),
			lines(200000, "go_x_bucket{le=\"%d\"} 0\n"),
			[]byte("go_x_bucket{le=\"+Inf\"} 0\ngo_x_sum 0\ngo_x_count 0\n"),
		)},
		{name: "a million short series", overCap: true, write: body(lines(1000000, "go_x%07d 1\n"))},
		{name: "a never-ending stream", overCap: true, write: func(w *bufio.Writer) error {
			for i := 0; ; i++ {
				if _, err := fmt.Fprintf(w, "process_x{id=\"%d\"} %d\n", i, i); err != nil {
					return err // the sidecar hung up
				}
			}
		}},
	}
}

// TestHostileMetricsPathKeepsTheSidecarUnderItsLimitAndServing runs the
// real sidecar binary, told its container's 64Mi limit as the injector
// tells it, against an app whose Prometheus endpoint answers each hostile
// body, and measures the process's peak resident set.
func TestHostileMetricsPathKeepsTheSidecarUnderItsLimitAndServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes")
	}
	for _, h := range hostileMetrics() {
		t.Run(h.name, func(t *testing.T) {
			var served atomic.Int64
			target := newFakeTarget(t)
			target.serve(map[string]http.HandlerFunc{
				varsPath:  fixtureBody(t, "vars.json"),
				indexPath: fixtureBody(t, "pprof-index.html"),
				metricsPath: func(w http.ResponseWriter, _ *http.Request) {
					served.Add(1)
					w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
					bw := bufio.NewWriterSize(w, 64<<10)
					if h.write(bw) == nil {
						_ = bw.Flush()
					}
				},
			})
			sc := startSidecarWithEnv(t, target.port(), []string{sidecarconf.EnvMemoryLimit + "=" + strconv.Itoa(containerMemoryLimit)},
				"--metrics-path="+metricsPath, "--interval=2s", "--timeout=1800ms")
			waitFor(t, 60*time.Second, "two reads of the hostile endpoint", func() bool { return served.Load() >= 2 })
			e := sc.nextSamples(t, 1)

			if !sc.proc.running() {
				t.Fatal("the sidecar exited")
			}
			if code, body := httpDo(t, http.MethodGet, sc.url+"/healthz"); code != http.StatusOK {
				t.Errorf("/healthz: %d %s", code, body)
			}
			peak, rss := procStatusBytes(t, sc.proc, "VmHWM"), procStatusBytes(t, sc.proc, "VmRSS")
			t.Logf("%d reads; sidecar RSS %.1f MiB, peak %.1f MiB", served.Load(), float64(rss)/(1<<20), float64(peak)/(1<<20))
			if peak >= containerMemoryLimit {
				t.Errorf("the sidecar's peak RSS is %.1f MiB, over its container's %d MiB limit", float64(peak)/(1<<20), containerMemoryLimit>>20)
			}
			if log := sc.proc.log.String(); !strings.Contains(log, `"msg":"soft memory limit set"`) || !strings.Contains(log, `"bytes":53687091`) {
				t.Errorf("the sidecar did not log its soft memory limit of 80%% of 64Mi:\n%s", sc.proc.log)
			}

			checkWithPromtool(t, e.raw)
			if e.series["gopherscope_target_up"] != 1 || e.series["go_memstats_heap_inuse_bytes"] == 0 {
				t.Errorf("target up %v, heap in use %v: want the app's expvar still read", e.series["gopherscope_target_up"], e.series["go_memstats_heap_inuse_bytes"])
			}
			hostile, dropped := 0, 0.0
			for name := range e.series {
				if strings.HasPrefix(name, "go_x") || strings.HasPrefix(name, "process_x") {
					hostile++
				}
			}
			for _, reason := range []string{"family_limit", "series_limit", "sample_limit"} {
				dropped += e.series[`gopherscope_dropped_series_total{reason=`+reason+`}`]
			}
			t.Logf("%d of the hostile series exposed, %.0f dropped", hostile, dropped)
			if hostile > 1000 {
				t.Errorf("%d of the hostile series are exposed, want at most 1000", hostile)
			}
			up := e.series["gopherscope_source_up{source=prometheus}"]
			if h.overCap {
				if up != 0 {
					t.Errorf("the prometheus source is up (%v) after a body over the cap", up)
				}
				return
			}
			if up != 1 || dropped == 0 {
				t.Errorf("prometheus source up %v, %.0f series dropped: want it read within the limits, and the rest counted", up, dropped)
			}
		})
	}
}

// startSidecarWithEnv starts the sidecar binary with extra environment
// variables, listening on a port it picks itself, and waits until it is
// ready.
func startSidecarWithEnv(t *testing.T, targetPort int, env []string, extra ...string) *sidecarProcess {
	t.Helper()
	args := append([]string{"--target-ports=" + strconv.Itoa(targetPort), "--listen-address=127.0.0.1:0"}, extra...)
	s := &sidecarProcess{proc: startWithEnv(t, env, "sidecar", args...)}
	serving := regexp.MustCompile(`"msg":"sidecar serving".*"address":"(127\.0\.0\.1:[0-9]+)"`)
	waitFor(t, groundTruthTimeout, "the sidecar to say where it serves", func() bool {
		m := serving.FindStringSubmatch(s.proc.log.String())
		if m != nil {
			s.url = "http://" + m[1]
		}
		return m != nil
	})
	waitFor(t, groundTruthTimeout, "the sidecar to be ready", func() bool {
		code, _ := httpDo(t, http.MethodGet, s.url+"/readyz")
		return code == http.StatusOK
	})
	return s
}

// procStatusBytes reads a size field (VmRSS, VmHWM) of the process's
// /proc status.
func procStatusBytes(t *testing.T, p *process, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", field, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, p.cmd.Process.Pid)
	return 0
}

// TestAppsOwnSeriesAreCappedAndCountedInTheExposition reads an app that
// answers 150 series of one family and 1,200 one-series families: the
// exposition keeps 100 of the first and 1,000 series in all, and
// gopherscope_dropped_series_total counts the rest, sample after sample.
func TestAppsOwnSeriesAreCappedAndCountedInTheExposition(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("# HELP go_wide A family of many series.\n# TYPE go_wide gauge\n")
	for i := range 150 {
		fmt.Fprintf(&b, "go_wide{i=\"%d\"} 1\n", i)
	}
	for i := range 1200 {
		fmt.Fprintf(&b, "# HELP go_f%04[1]d One of many families.\n# TYPE go_f%04[1]d gauge\ngo_f%04[1]d 1\n", i)
	}
	target := newFakeTarget(t)
	target.serve(map[string]http.HandlerFunc{metricsPath: body("text/plain; version=0.0.4", b.Bytes())})
	opts := testOptions(target.port(), metricsPath)
	opts.ExpvarPath, opts.PprofPath = "", ""
	opts.Interval, opts.Timeout = 10*time.Second, 5*time.Second // a loaded machine is slow
	s := NewSampler(opts, history.New(10), testLogger(t))
	defer s.Close()

	for sample := 1; sample <= 2; sample++ {
		s.SampleOnce(t.Context())
		got := health(t, s)
		wide, families := 0, 0
		for series := range got {
			switch {
			case strings.HasPrefix(series, "go_wide{"):
				wide++
			case strings.HasPrefix(series, "go_f"):
				families++
			}
		}
		if wide != 100 || wide+families != 1000 {
			t.Errorf("sample %d: %d series of go_wide and %d others exposed, want 100 and 900", sample, wide, families)
		}
		want := map[string]float64{
			"gopherscope_dropped_series_total{reason=family_limit}": float64(50 * sample),
			"gopherscope_dropped_series_total{reason=series_limit}": float64(300 * sample),
			"gopherscope_dropped_series_total{reason=sample_limit}": 0,
			"gopherscope_source_up{source=prometheus}":              1,
		}
		for series, v := range want {
			if g, ok := got[series]; !ok || g != v {
				t.Errorf("sample %d: %s = %v (present: %v), want %v", sample, series, g, ok, v)
			}
		}
	}
}
