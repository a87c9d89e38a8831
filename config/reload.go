package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/go-logr/logr"
)

// Defaults of Watcher.
const (
	// DefaultReloadPollInterval is how often the Watcher re-reads the file
	// even without a file-system event.
	DefaultReloadPollInterval = 30 * time.Second
	// DefaultReloadDebounce is how long the Watcher waits after the last
	// file-system event before it reads the file: a ConfigMap update is a
	// burst of events (new directory, new symlink, rename, removal).
	DefaultReloadDebounce = 100 * time.Millisecond
)

// Watcher reloads a configuration file when it changes. A new file that
// parses and validates is handed to Apply; a bad one is logged and ignored,
// so the configuration in use stays the last good one.
//
// A mounted ConfigMap is updated by the kubelet with an atomic symlink swap
// (a new "..2026_…" directory, then "..data" renamed over), so the file's own
// inode never changes and a watch on the file would see nothing. Watcher
// therefore watches the file's directory with fsnotify (inotify: no polling
// delay, no CPU while idle), debounces the burst of events, and compares a
// hash of the content, so unrelated events and a rewrite with the same bytes
// apply nothing. A slow poll (PollInterval) backs fsnotify up where events
// are lost (some network and overlay file systems, a replaced directory).
//
// Watcher is a controller-runtime Runnable: hand it to a manager, or call
// Start yourself.
type Watcher struct {
	// Path is the configuration file.
	Path string
	// Version is the binary's version (see Default).
	Version string
	// Apply receives every new valid configuration. It is called from the
	// Watcher's goroutine, one call at a time, and owns what it receives.
	Apply func(*Config)
	// Log receives one line per reload, accepted or rejected.
	Log logr.Logger
	// PollInterval is how often the file is re-read without an event:
	// 0 means DefaultReloadPollInterval, a negative value turns polling off.
	PollInterval time.Duration
	// Debounce is the quiet time after an event before a read: 0 means
	// DefaultReloadDebounce.
	Debounce time.Duration

	mu sync.Mutex
	// seen is the hash of the content last read, accepted or rejected, so a
	// bad file is reported once, not on every event or poll.
	seen [sha256.Size]byte
}

// Load reads the file for the first time and returns its configuration; it
// does not call Apply. The content becomes the reference later changes are
// compared with.
func (w *Watcher) Load() (*Config, error) {
	data, err := os.ReadFile(w.Path)
	if err != nil {
		return nil, fmt.Errorf("read config %q: %w", w.Path, err)
	}
	cfg, err := Parse(data, w.Version)
	if err != nil {
		return nil, fmt.Errorf("config %q: %w", w.Path, err)
	}
	w.mu.Lock()
	w.seen = sha256.Sum256(data)
	w.mu.Unlock()
	return cfg, nil
}

// Start watches the file until ctx ends. It first re-reads the file, so a
// change between Load and Start is not missed.
func (w *Watcher) Start(ctx context.Context) error {
	events, errs, closeWatch := w.watch()
	defer closeWatch()

	poll := w.PollInterval
	if poll == 0 {
		poll = DefaultReloadPollInterval
	}
	var tick <-chan time.Time
	if poll > 0 {
		ticker := time.NewTicker(poll)
		defer ticker.Stop()
		tick = ticker.C
	}
	debounce := w.Debounce
	if debounce <= 0 {
		debounce = DefaultReloadDebounce
	}
	settle := time.NewTimer(debounce)
	defer settle.Stop()

	w.Log.Info("watching the config file", "path", w.Path, "pollInterval", poll.String())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-events:
			settle.Reset(debounce)
		case err := <-errs:
			w.Log.Error(err, "config file watch", "path", w.Path)
		case <-settle.C:
			w.reload()
		case <-tick:
			w.reload()
		}
	}
}

// NeedLeaderElection tells a controller-runtime manager that every replica
// runs its own Watcher.
func (w *Watcher) NeedLeaderElection() bool { return false }

// watch starts an fsnotify watch on the file's directory. When that fails
// (for example, the inotify limit is reached) it logs and returns nil
// channels: polling alone then notices changes.
func (w *Watcher) watch() (<-chan fsnotify.Event, <-chan error, func()) {
	fsw, err := fsnotify.NewWatcher()
	if err == nil {
		err = fsw.Add(filepath.Dir(w.Path))
		if err != nil {
			_ = fsw.Close()
		}
	}
	if err != nil {
		w.Log.Error(err, "cannot watch the config file's directory; relying on polling", "path", w.Path)
		return nil, nil, func() {}
	}
	return fsw.Events, fsw.Errors, func() { _ = fsw.Close() }
}

// reload reads the file and, when its content changed, parses and applies it.
func (w *Watcher) reload() {
	data, err := os.ReadFile(w.Path)
	if err != nil {
		// Between the steps of a swap, or the file is gone: keep what we have.
		w.Log.Error(err, "config file unreadable; keeping the current config", "path", w.Path)
		return
	}
	sum := sha256.Sum256(data)
	w.mu.Lock()
	unchanged := bytes.Equal(sum[:], w.seen[:])
	w.seen = sum
	w.mu.Unlock()
	if unchanged {
		return
	}
	cfg, err := Parse(data, w.Version)
	if err != nil {
		w.Log.Error(err, "rejected the new config file; keeping the current config", "path", w.Path, "sha256", fmt.Sprintf("%x", sum[:8]))
		return
	}
	w.Apply(cfg)
	w.Log.Info("reloaded the config file", "path", w.Path, "sha256", fmt.Sprintf("%x", sum[:8]))
}
