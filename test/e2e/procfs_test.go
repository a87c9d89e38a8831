//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The faults and security tests look at the local processes the way an
// operator would on a node: through /proc.

// pidOf returns the pid of the one running process whose executable is
// binary and whose arguments include every fragment (each an exact argument).
func pidOf(t *testing.T, binary string, args ...string) int {
	t.Helper()
	var found []int
	deadline := time.Now().Add(5 * time.Second)
	for len(found) == 0 && time.Now().Before(deadline) {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			t.Fatalf("read /proc: %v", err)
		}
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err != nil || len(raw) == 0 {
				continue // gone, or a kernel thread
			}
			argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
			if argv[0] != binary {
				continue
			}
			if slices.ContainsFunc(args, func(a string) bool { return !slices.Contains(argv[1:], a) }) {
				continue
			}
			found = append(found, pid)
		}
		if len(found) == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if len(found) != 1 {
		t.Fatalf("processes of %s with args %q: %v, want exactly one", binary, args, found)
	}
	return found[0]
}

// memory is a process's resident set size now and at its peak, in bytes.
type memory struct{ rss, peak int64 }

// memoryOf reads VmRSS and VmHWM from /proc/pid/status.
func memoryOf(t *testing.T, pid int) memory {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the status of pid %d: %v", pid, err)
	}
	var m memory
	for line := range strings.Lines(string(status)) {
		fields := strings.Fields(line)
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			m.rss = kb << 10
		case "VmHWM:":
			m.peak = kb << 10
		}
	}
	if m.rss == 0 || m.peak == 0 {
		t.Fatalf("/proc/%d/status has no VmRSS or VmHWM:\n%s", pid, status)
	}
	return m
}

// listeningPorts returns the TCP ports pid listens on, sorted: its socket
// inodes (from /proc/pid/fd) matched against the LISTEN sockets of
// /proc/pid/net/tcp and tcp6.
func listeningPorts(t *testing.T, pid int) []int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("read the fds of pid %d: %v", pid, err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var ports []int
	for _, table := range []string{"tcp", "tcp6"} {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			t.Fatalf("read the %s table of pid %d: %v", table, pid, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Scan() // the header
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(sc.Text())
			const listen = "0A"
			if len(f) < 10 || f[3] != listen || !inodes[f[9]] {
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			port, err := strconv.ParseInt(hexPort, 16, 32)
			if err != nil {
				t.Fatalf("%s table of pid %d: local address %q", table, pid, f[1])
			}
			if !slices.Contains(ports, int(port)) {
				ports = append(ports, int(port))
			}
		}
	}
	slices.Sort(ports)
	return ports
}
