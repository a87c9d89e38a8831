package rig

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// readyTimeout bounds the wait for a local process to serve.
const readyTimeout = 30 * time.Second

// DemoApp is bin/demo-app running locally.
type DemoApp struct {
	*Process
	// DebugPort serves expvar and pprof, or /metrics (mode prometheus).
	DebugPort int
	// AppURL is the app server (knobs, /pauses).
	AppURL string
	// Mode is the app's --mode.
	Mode string
}

// StartDemoApp starts bin/demo-app in the given mode (expvar, prometheus
// or pprof) and waits until it serves.
func StartDemoApp(ctx context.Context, repoRoot, workDir, mode string) (*DemoApp, error) {
	ports, err := localcluster.FreePorts(2)
	if err != nil {
		return nil, err
	}
	a := &DemoApp{DebugPort: ports[0], AppURL: "http://" + loopback(ports[1]), Mode: mode}
	a.Process, err = StartProcess("demo-app-"+mode, filepath.Join(repoRoot, "bin", "demo-app"), []string{
		"--debug-address=" + loopback(ports[0]), "--address=" + loopback(ports[1]), "--mode=" + mode,
	}, nil, workDir)
	if err != nil {
		return nil, err
	}
	if err := a.WaitReady(ctx, a.AppURL+"/healthz", readyTimeout); err != nil {
		return nil, fmt.Errorf("%w (and stopping it: %w)", err, a.Stop())
	}
	return a, nil
}

// Pauses is the demo app's GET /pauses: its stop-the-world pauses so far,
// read without causing one.
type Pauses struct {
	GC    PauseTotal `json:"gc"`
	Other PauseTotal `json:"other"`
}

// PauseTotal is one pause histogram's count (exact) and time (bucket
// midpoints, between the sums of the bucket bounds).
type PauseTotal struct {
	Count      uint64  `json:"count"`
	Seconds    float64 `json:"seconds"`
	MinSeconds float64 `json:"minSeconds"`
	MaxSeconds float64 `json:"maxSeconds"`
}

// Sub is the pauses between an earlier reading and this one.
func (p PauseTotal) Sub(earlier PauseTotal) PauseTotal {
	return PauseTotal{Count: p.Count - earlier.Count, Seconds: p.Seconds - earlier.Seconds,
		MinSeconds: p.MinSeconds - earlier.MinSeconds, MaxSeconds: p.MaxSeconds - earlier.MaxSeconds}
}

// Pauses reads the app's pauses.
func (a *DemoApp) Pauses(ctx context.Context) (Pauses, error) {
	var p Pauses
	return p, getJSON(ctx, a.AppURL+"/pauses", &p)
}

// Sidecar is bin/sidecar running locally next to a demo app.
type Sidecar struct {
	*Process
	// URL is where it serves (/metrics, /api/v1/history).
	URL string
}

// StartSidecar starts bin/sidecar sampling app every interval, with env as
// its whole environment and args after its own (e.g. --metrics-path), and
// waits until it is ready (it has sampled the app).
func StartSidecar(ctx context.Context, repoRoot, workDir string, app *DemoApp, interval time.Duration, env []string, args ...string) (*Sidecar, error) {
	port, err := localcluster.FreePort()
	if err != nil {
		return nil, err
	}
	s := &Sidecar{URL: "http://" + loopback(port)}
	s.Process, err = StartProcess("sidecar-"+app.Mode, filepath.Join(repoRoot, "bin", "sidecar"), append([]string{
		"--" + names.FlagTargetHost + "=127.0.0.1",
		"--" + names.FlagTargetPorts + "=" + strconv.Itoa(app.DebugPort),
		"--" + names.FlagInterval + "=" + interval.String(),
		"--" + names.FlagListenAddress + "=" + loopback(port),
	}, args...), env, workDir)
	if err != nil {
		return nil, err
	}
	if err := s.WaitReady(ctx, s.URL+names.SidecarReadyzPath, readyTimeout); err != nil {
		return nil, fmt.Errorf("%w (and stopping it: %w)", err, s.Stop())
	}
	return s, nil
}

// SamplesBetween counts the samples in the sidecar's history taken in
// (from, to].
func (s *Sidecar) SamplesBetween(ctx context.Context, from, to time.Time) (int, error) {
	var h struct {
		Points []struct {
			Time time.Time `json:"t"`
		} `json:"points"`
	}
	if err := getJSON(ctx, s.URL+names.SidecarHistoryPath, &h); err != nil {
		return 0, err
	}
	n := 0
	for _, p := range h.Points {
		if p.Time.After(from) && !p.Time.After(to) {
			n++
		}
	}
	return n, nil
}

// Scrape fetches url and discards the body; it returns the body's size.
func Scrape(ctx context.Context, client *http.Client, url string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }() // read to the end below
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return n, fmt.Errorf("scrape %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return n, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	return n, nil
}

// getJSON decodes the JSON answer of GET url into v.
func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }() // decoded below
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("decode %s: %w", url, err)
	}
	return nil
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
