package rig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it kills.
const stopGrace = 10 * time.Second

// Process is a binary of the repository running as a local process, its
// output in a log file. Unlike test/localcluster's processes it tells its
// pid, which /proc readings need.
type Process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error // valid once done is closed
}

// StartProcess starts path with args and exactly env (nothing inherited),
// its output appended to logDir/name.log.
func StartProcess(name, path string, args, env []string, logDir string) (*Process, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) //nolint:gosec // in the harness's own work dir
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", name, err)
	}
	cmd := exec.Command(path, args...) //nolint:gosec // the repository's own binaries
	cmd.Env = append([]string{}, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: Ctrl-C reaches the harness, which stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, path, err)
	}
	p := &Process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LogPath is the process's log file.
func (p *Process) LogPath() string { return p.logPath }

// Log returns the process's log so far.
func (p *Process) Log() ([]byte, error) {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return nil, fmt.Errorf("read log of %s: %w", p.name, err)
	}
	return b, nil
}

// Running reports whether the process has not exited.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM and waits for the exit, killing the process after
// stopGrace. An exit other than 0 after SIGTERM is an error.
func (p *Process) Stop() error {
	if !p.Running() {
		return p.exitError()
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return p.exitError()
	case <-time.After(stopGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("stop %s: still running %s after SIGTERM, killed (log %s)", p.name, stopGrace, p.logPath)
	}
}

func (p *Process) exitError() error {
	if p.err != nil {
		return fmt.Errorf("%s: %w (log %s)", p.name, p.err, p.logPath)
	}
	return nil
}

// WaitReady polls url until it answers 200, the process exits or timeout
// passes.
func (p *Process) WaitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close() // the status is all that matters
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s", resp.Status)
		}
		last = err
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before %s answered: %w\n%s", p.name, url, p.exitError(), p.tail())
		case <-ctx.Done():
			return fmt.Errorf("%s: %s not ready after %s: %w\n%s", p.name, url, timeout, last, p.tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// tail is the end of the log, for error messages.
func (p *Process) tail() string {
	b, err := p.Log()
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return fmt.Sprintf("--- end of %s ---\n%s", p.logPath, bytes.TrimSpace(b))
}
