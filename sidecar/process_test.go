package sidecar

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// binaries builds cmd/demo-app and cmd/sidecar once per test run, the
// sidecar as `make build` does (static, stripped).
var binaries = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "gopherscope-bin-")
	if err != nil {
		return "", err
	}
	for _, b := range []struct{ name, pkg string }{
		{"demo-app", "github.com/gopherscope/gopherscope/cmd/demo-app"},
		{"sidecar", "github.com/gopherscope/gopherscope/cmd/sidecar"},
	} {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, b.name), b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
		}
	}
	return dir, nil
})

func binDir(t *testing.T) string {
	t.Helper()
	dir, err := binaries()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// process is a binary running for the length of a test.
type process struct {
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

func start(t *testing.T, name string, args ...string) *process {
	t.Helper()
	return startWithEnv(t, nil, name, args...)
}

// startWithEnv is start with variables added to the test's environment.
func startWithEnv(t *testing.T, env []string, name string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(filepath.Join(binDir(t), name), args...), log: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s %s output:\n%s", name, strings.Join(args, " "), p.log)
		}
	})
	return p
}

// lockedBuffer is a process's output, which tests may read while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stop sends SIGTERM and waits for the exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop on SIGTERM", p.cmd.Path)
	}
}

func (p *process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// rssBytes reads the process's resident set size from /proc.
func (p *process) rssBytes() (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

func httpDo(t *testing.T, method, url string) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitFor polls cond every 100ms until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exposition is a parsed /metrics: series (name{labels}) -> value, and the
// families by name.
type exposition struct {
	raw    []byte
	series map[string]float64
	names  []string
}

func (e exposition) has(name string) bool { return slices.Contains(e.names, name) }

func scrape(t *testing.T, url string) exposition {
	t.Helper()
	code, body := httpDo(t, http.MethodGet, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	e := exposition{raw: body, series: map[string]float64{}}
	for name, f := range fams {
		e.names = append(e.names, name)
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(labels)
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			if _, dup := e.series[key]; dup {
				t.Errorf("series %s appears twice in %s", key, url)
			}
			switch {
			case m.GetGauge() != nil:
				e.series[key] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				e.series[key] = m.GetCounter().GetValue()
			case m.GetUntyped() != nil:
				e.series[key] = m.GetUntyped().GetValue()
			case m.GetSummary() != nil:
				e.series[key+"_count"] = float64(m.GetSummary().GetSampleCount())
				e.series[key+"_sum"] = m.GetSummary().GetSampleSum()
			case m.GetHistogram() != nil:
				e.series[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	slices.Sort(e.names)
	return e
}

// self is the demo app's report of its own runtime.
type self struct {
	Goroutines int     `json:"goroutines"`
	Threads    int     `json:"threads"`
	HeapAlloc  float64 `json:"heapAlloc"`
	HeapInuse  float64 `json:"heapInuse"`
	HeapSys    float64 `json:"heapSys"`
	NumGC      float64 `json:"numGC"`
	TotalAlloc float64 `json:"totalAlloc"`
	PID        int     `json:"pid"`
}

func readSelf(t *testing.T, appURL string) self {
	t.Helper()
	code, body := httpDo(t, http.MethodGet, appURL+"/self")
	if code != http.StatusOK {
		t.Fatalf("GET /self: %d %s", code, body)
	}
	var s self
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("decode /self: %v", err)
	}
	return s
}
