package rig

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on Linux).
const clockTick = 10 * time.Millisecond

// Usage is one reading of a process's memory and CPU from /proc.
type Usage struct {
	// At is when it was read.
	At time.Time
	// RSSBytes is VmRSS from /proc/PID/status.
	RSSBytes int64
	// CPU is the time the process's threads have run, summed from
	// /proc/PID/task/*/schedstat (nanoseconds, unlike stat's ticks).
	CPU time.Duration
	// CPUTicks is utime+stime from /proc/PID/stat, in 10 ms ticks.
	CPUTicks time.Duration
}

// ReadUsage reads pid's usage now.
func ReadUsage(pid int) (Usage, error) {
	u := Usage{At: time.Now()}
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	status, err := os.ReadFile(filepath.Join(dir, "status")) //nolint:gosec // a /proc path built from a pid
	if err != nil {
		return u, fmt.Errorf("read usage of pid %d: %w", pid, err)
	}
	if u.RSSBytes, err = vmRSS(status); err != nil {
		return u, fmt.Errorf("pid %d: %w", pid, err)
	}
	stat, err := os.ReadFile(filepath.Join(dir, "stat")) //nolint:gosec // a /proc path built from a pid
	if err != nil {
		return u, fmt.Errorf("read usage of pid %d: %w", pid, err)
	}
	if u.CPUTicks, err = statCPU(stat); err != nil {
		return u, fmt.Errorf("pid %d: %w", pid, err)
	}
	tasks, err := filepath.Glob(filepath.Join(dir, "task", "*", "schedstat"))
	if err != nil || len(tasks) == 0 {
		return u, fmt.Errorf("pid %d: no task schedstat files", pid)
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t) //nolint:gosec // a /proc path built from a pid
		if err != nil {
			continue // a thread that just exited
		}
		ns, err := strconv.ParseInt(string(bytes.Fields(b)[0]), 10, 64)
		if err != nil {
			return u, fmt.Errorf("parse %s: %w", t, err)
		}
		u.CPU += time.Duration(ns)
	}
	return u, nil
}

// vmRSS parses the VmRSS line of /proc/PID/status.
func vmRSS(status []byte) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("unexpected VmRSS line %q", line)
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse VmRSS line %q: %w", line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS line in status")
}

// statCPU parses utime and stime (fields 14 and 15) of /proc/PID/stat.
// The command name (field 2) is in parentheses and may contain spaces.
func statCPU(stat []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("unexpected stat %q", stat)
	}
	f := strings.Fields(string(stat[end+1:])) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("stat has %d fields after the command, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse stat field %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// Monitor reads a process's usage every interval until stopped.
type Monitor struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	readings []Usage
	err      error
}

// StartMonitor reads pid's usage now and then every interval.
func StartMonitor(pid int, interval time.Duration) (*Monitor, error) {
	first, err := ReadUsage(pid)
	if err != nil {
		return nil, err
	}
	m := &Monitor{pid: pid, stop: make(chan struct{}), done: make(chan struct{}), readings: []Usage{first}}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
			u, err := ReadUsage(pid)
			m.mu.Lock()
			if err != nil {
				m.err = err
			} else {
				m.readings = append(m.readings, u)
			}
			m.mu.Unlock()
		}
	}()
	return m, nil
}

// Stop takes a last reading, stops the monitor and returns every reading.
func (m *Monitor) Stop() ([]Usage, error) {
	close(m.stop)
	<-m.done
	last, err := ReadUsage(m.pid)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		return m.readings, err
	}
	return append(m.readings, last), m.err
}

// Span summarizes readings: RSS at the start, its peak and at the end,
// and the CPU used in between.
type Span struct {
	StartRSS, PeakRSS, EndRSS int64
	CPU, CPUTicks             time.Duration
	Elapsed                   time.Duration
}

// Summarize summarizes the readings (at least two).
func Summarize(readings []Usage) Span {
	if len(readings) == 0 {
		return Span{}
	}
	first, last := readings[0], readings[len(readings)-1]
	s := Span{StartRSS: first.RSSBytes, EndRSS: last.RSSBytes, CPU: last.CPU - first.CPU,
		CPUTicks: last.CPUTicks - first.CPUTicks, Elapsed: last.At.Sub(first.At)}
	for _, r := range readings {
		s.PeakRSS = max(s.PeakRSS, r.RSSBytes)
	}
	return s
}

// MiB formats bytes in MiB.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
