package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it kills.
const stopGrace = 10 * time.Second

// ProcessOptions describe a local process.
type ProcessOptions struct {
	// Name names the process in messages and its log file (Name.log).
	Name string
	// Path is the binary.
	Path string
	// Args are the arguments after the binary's name.
	Args []string
	// Env is the whole environment of the process: nothing is inherited,
	// so a process sees exactly what a container spec would give it.
	Env []string
	// LogDir receives Name.log with the process's stdout and stderr,
	// appended across restarts.
	LogDir string
}

// Process is a local process with its output in a log file. It can be
// stopped and started again with the same options.
type Process struct {
	opts    ProcessOptions
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	err  error         // cmd's exit error, valid once done is closed
}

// StartProcess starts the process described by opts.
func StartProcess(opts ProcessOptions) (*Process, error) {
	if err := os.MkdirAll(opts.LogDir, 0o750); err != nil {
		return nil, fmt.Errorf("create log dir for %s: %w", opts.Name, err)
	}
	p := &Process{opts: opts, logPath: filepath.Join(opts.LogDir, opts.Name+".log")}
	if err := p.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

// LogPath is the file that holds the process's output.
func (p *Process) LogPath() string { return p.logPath }

// Start starts the process again after Stop. Starting a running process is
// an error.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != nil {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("start %s: already running (pid %d)", p.opts.Name, p.cmd.Process.Pid)
		}
	}
	logFile, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", p.opts.Name, err)
	}
	cmd := exec.Command(p.opts.Path, p.opts.Args...) //nolint:gosec // the harness runs the repository's own binaries
	cmd.Env = p.opts.Env
	if cmd.Env == nil {
		cmd.Env = []string{} // never inherit
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A process group of its own: Ctrl-C in a terminal reaches the program
	// that started the process, which stops it in order, not the process
	// directly. It dies with that program, so a killed test leaves nothing
	// running.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("start %s (%s): %w", p.opts.Name, p.opts.Path, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err = cmd, done, nil
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// Exited is closed when the current run of the process has ended.
func (p *Process) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// ExitError is how the last run ended (nil while running or after exit 0).
func (p *Process) ExitError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stop sends SIGTERM, waits up to 10 s for the process to exit, then kills
// it. Stopping a stopped process does nothing. A process that had to be
// killed, or that exited with an error after SIGTERM, is reported.
func (p *Process) Stop() error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop %s: %w", p.opts.Name, err)
	}
	select {
	case <-done:
	case <-time.After(stopGrace):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("stop %s: still running %s after SIGTERM, killed (log: %s)", p.opts.Name, stopGrace, p.logPath)
	}
	// Our binaries exit 0 on SIGTERM; anything else is worth reporting.
	if err := p.ExitError(); err != nil {
		return fmt.Errorf("stop %s: %w (log: %s)", p.opts.Name, err, p.logPath)
	}
	return nil
}

// WaitReady polls url until it answers 200, the process exits (an error
// with the end of its log) or ctx ends.
func (p *Process) WaitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = getOK(ctx, url); last == nil {
			return nil
		}
		select {
		case <-p.Exited():
			exit := p.ExitError()
			if exit == nil {
				exit = errors.New("exit status 0")
			}
			return fmt.Errorf("%s exited before %s answered: %w\n%s", p.opts.Name, url, exit, p.LogTail(20))
		case <-ctx.Done():
			return fmt.Errorf("%s: %s not ready after %s: %w\n%s", p.opts.Name, url, timeout, last, p.LogTail(20))
		case <-tick.C:
		}
	}
}

// LogTail returns the last n lines of the process's log, for error messages.
func (p *Process) LogTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return fmt.Sprintf("--- last lines of %s ---\n%s", p.logPath, bytes.Join(lines, []byte("\n")))
}
