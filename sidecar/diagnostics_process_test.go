package sidecar

import (
	"bufio"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar/diagnostics"
)

// TestDiagnosticsStreamsADumpWithoutHoldingIt runs the real sidecar
// binary, told its container's 64Mi limit, in front of the demo app with
// 20,000 parked goroutines, and takes their goroutine?debug=2 dump (several
// MiB) through the diagnostics port: the dump arrives whole, and the
// sidecar's peak resident set grows by far less than its size, because it
// streams the dump instead of holding it.
func TestDiagnosticsStreamsADumpWithoutHoldingIt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes")
	}
	ca, client := diagnosticsClient(t)
	const parked = 20000
	app := startDemoApp(t, "pprof", freePort(t), freePort(t))
	if code, body := httpDo(t, http.MethodPost, app.appURL+"/goroutines?n="+strconv.Itoa(parked)); code != http.StatusOK {
		t.Fatalf("park goroutines: %d %s", code, body)
	}
	sc := startSidecarWithEnv(t, app.debugPort,
		[]string{sidecarconf.EnvMemoryLimit + "=" + strconv.Itoa(containerMemoryLimit), sidecarconf.EnvDiagnosticsCA + "=" + string(ca.PEM)},
		"--expvar-path=", "--interval=1s", "--diagnostics-listen-address=127.0.0.1:0")
	serving := regexp.MustCompile(`"msg":"diagnostics serving".*"address":"(127\.0\.0\.1:[0-9]+)"`)
	var addr string
	waitFor(t, groundTruthTimeout, "the sidecar to say where it serves diagnostics", func() bool {
		if m := serving.FindStringSubmatch(sc.proc.log.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	before := procStatusBytes(t, sc.proc, "VmHWM")

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://"+addr+diagnostics.PathPrefix+"goroutine?debug=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("goroutine?debug=2: %s", resp.Status)
	}
	var size, goroutines int
	sc2 := bufio.NewScanner(resp.Body)
	sc2.Buffer(make([]byte, 64<<10), 1<<20)
	for sc2.Scan() {
		size += len(sc2.Bytes()) + 1
		if strings.HasPrefix(sc2.Text(), "goroutine ") {
			goroutines++
		}
	}
	if err := sc2.Err(); err != nil {
		t.Fatalf("read the dump after %d bytes: %v", size, err)
	}
	after := procStatusBytes(t, sc.proc, "VmHWM")
	t.Logf("dump of %d goroutines, %.1f MiB; sidecar peak RSS %.1f MiB before, %.1f MiB after",
		goroutines, float64(size)/(1<<20), float64(before)/(1<<20), float64(after)/(1<<20))
	if goroutines < parked {
		t.Errorf("the dump lists %d goroutines, want at least the %d parked", goroutines, parked)
	}
	if growth := after - before; growth > int64(size)/2 {
		t.Errorf("the sidecar's peak RSS grew by %.1f MiB for a %.1f MiB dump: it held the dump instead of streaming it",
			float64(growth)/(1<<20), float64(size)/(1<<20))
	}
}
