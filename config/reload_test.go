package config

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
)

// reloadRecorder collects what a Watcher applies and logs.
type reloadRecorder struct {
	mu      sync.Mutex
	applied []*Config
	logs    []string
}

func (r *reloadRecorder) apply(cfg *Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = append(r.applied, cfg)
}

func (r *reloadRecorder) log(prefix, args string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, prefix+" "+args)
}

// waitFor polls cond until it holds or the deadline passes.
func (r *reloadRecorder) waitFor(t *testing.T, what string, cond func(applied []*Config, logs []string) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		ok := cond(r.applied, r.logs)
		r.mu.Unlock()
		if ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Fatalf("timed out waiting for %s; applied %d configs, logs:\n%s", what, len(r.applied), strings.Join(r.logs, "\n"))
}

// writeAtomically replaces path's content the way editors and kubectl cp
// do: write a temporary file, then rename it over.
func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// startWatcher loads path and runs a Watcher on it until the test ends. Its
// poll is off, so only file-system events can trigger a reload.
func startWatcher(t *testing.T, path string) (*Config, *reloadRecorder) {
	t.Helper()
	rec := &reloadRecorder{}
	w := &Watcher{
		Path:         path,
		Version:      "v1.0.0",
		Apply:        rec.apply,
		Log:          funcr.New(rec.log, funcr.Options{}),
		PollInterval: -1,
		Debounce:     20 * time.Millisecond,
	}
	cfg, err := w.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	ctx := t.Context()
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()
	t.Cleanup(func() {
		// t.Context is cancelled just before cleanups run.
		if err := <-done; err != nil {
			t.Errorf("Start returned %v", err)
		}
	})
	rec.waitFor(t, "the watch to start", func(_ []*Config, logs []string) bool {
		return len(logs) > 0 && strings.Contains(logs[0], "watching the config file")
	})
	return cfg, rec
}

func TestWatcherAppliesAValidChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeAtomically(t, path, "strict: false\n")
	first, rec := startWatcher(t, path)
	if first.Strict {
		t.Fatalf("Load: strict = true, want the file's false")
	}

	writeAtomically(t, path, "strict: true\ninterval: 30s\n")
	rec.waitFor(t, "the new config", func(applied []*Config, _ []string) bool { return len(applied) == 1 })
	got := rec.applied[0]
	if !got.Strict || got.Interval.Duration != 30*time.Second {
		t.Errorf("applied strict=%v interval=%s, want true and 30s", got.Strict, got.Interval.Duration)
	}
	if got.Sidecar.Image != DefaultSidecarImage+":v1.0.0" {
		t.Errorf("applied image %q, want the default for the watcher's version", got.Sidecar.Image)
	}
}

func TestWatcherRejectsAnInvalidChangeAndKeepsTheOldConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeAtomically(t, path, "strict: true\n")
	_, rec := startWatcher(t, path)

	writeAtomically(t, path, "strict: true\ninterval: 10ms\n")
	rec.waitFor(t, "the rejection", func(_ []*Config, logs []string) bool {
		return strings.Contains(strings.Join(logs, "\n"), "rejected the new config file")
	})
	rec.mu.Lock()
	applied, logs := len(rec.applied), strings.Join(rec.logs, "\n")
	rec.mu.Unlock()
	if applied != 0 {
		t.Errorf("applied %d configs after a bad file, want the old one kept", applied)
	}
	if !strings.Contains(logs, "interval: 10ms is shorter than the minimum 1s") {
		t.Errorf("the rejection does not say why:\n%s", logs)
	}
	// A fixed file is applied again.
	writeAtomically(t, path, "strict: false\n")
	rec.waitFor(t, "the fixed config", func(applied []*Config, _ []string) bool { return len(applied) == 1 })
	if rec.applied[0].Strict {
		t.Errorf("applied strict=true, want the fixed file's false")
	}
}

func TestWatcherIgnoresARewriteWithTheSameContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	writeAtomically(t, path, "strict: true\n")
	_, rec := startWatcher(t, path)

	writeAtomically(t, path, "strict: true\n")
	writeAtomically(t, filepath.Join(dir, "other.yaml"), "unrelated: true\n")
	writeAtomically(t, path, "strict: false\n")
	rec.waitFor(t, "the changed config", func(applied []*Config, _ []string) bool { return len(applied) >= 1 })
	time.Sleep(200 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.applied) != 1 || rec.applied[0].Strict {
		t.Errorf("applied %d configs, want exactly the one change (strict=false)", len(rec.applied))
	}
}

func TestWatcherFollowsAConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	// The kubelet's layout: config.yaml -> ..data/config.yaml, ..data -> ..<timestamp>.
	writeVersion := func(name, content string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "config.yaml"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeVersion("..2026_11_26_10_00_00.000000001", "strict: false\n")
	if err := os.Symlink("..2026_11_26_10_00_00.000000001", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..data/config.yaml", filepath.Join(dir, "config.yaml")); err != nil {
		t.Fatal(err)
	}
	_, rec := startWatcher(t, filepath.Join(dir, "config.yaml"))

	// The update: a new directory, a new symlink renamed over ..data, the old directory removed.
	writeVersion("..2026_11_26_10_05_00.000000002", "strict: true\nallowHostNetwork: true\n")
	if err := os.Symlink("..2026_11_26_10_05_00.000000002", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "..2026_11_26_10_00_00.000000001")); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "the swapped config", func(applied []*Config, _ []string) bool { return len(applied) == 1 })
	if got := rec.applied[0]; !got.Strict || !got.AllowHostNetwork {
		t.Errorf("applied strict=%v allowHostNetwork=%v, want both true", got.Strict, got.AllowHostNetwork)
	}
}

func TestWatcherSeesAChangeMadeBetweenLoadAndStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeAtomically(t, path, "strict: false\n")
	rec := &reloadRecorder{}
	w := &Watcher{Path: path, Apply: rec.apply, Log: funcr.New(rec.log, funcr.Options{}), PollInterval: -1}
	if _, err := w.Load(); err != nil {
		t.Fatal(err)
	}
	// Changed before the watch starts: no event reaches the watcher.
	writeAtomically(t, path, "strict: true\n")
	go func() { _ = w.Start(t.Context()) }()
	rec.waitFor(t, "the change made before Start", func(applied []*Config, _ []string) bool { return len(applied) == 1 })
	if !rec.applied[0].Strict {
		t.Errorf("applied strict=false, want true")
	}
}

func TestWatcherLoadRejectsABadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeAtomically(t, path, "strcit: true\n")
	w := &Watcher{Path: path, Apply: func(*Config) { t.Error("Apply called for a bad file") }}
	_, err := w.Load()
	if err == nil || !strings.Contains(err.Error(), `unknown field "strcit"`) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load error = %v, want the unknown field and the path", err)
	}
}
