package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// residentMemory is a process's resident memory from /proc/PID/status: VmRSS, and
// how much of it is anonymous (the Go heap, stacks, the runtime's own) and
// file-backed (mostly the binary's pages that have run).
type residentMemory struct {
	total, anon, file int64
}

// String prints the total and its split.
func (r residentMemory) String() string {
	return fmt.Sprintf("%s (anonymous %s, file-backed %s)", rig.MiB(r.total), rig.MiB(r.anon), rig.MiB(r.file))
}

// readRSS reads pid's resident memory.
func readRSS(pid int) (residentMemory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return residentMemory{}, fmt.Errorf("read the memory of pid %d: %w", pid, err)
	}
	return parseRSS(string(b))
}

// parseRSS reads VmRSS, RssAnon and RssFile (kB) from a /proc/PID/status.
func parseRSS(status string) (residentMemory, error) {
	var r residentMemory
	fields := map[string]*int64{"VmRSS:": &r.total, "RssAnon:": &r.anon, "RssFile:": &r.file}
	found := 0
	for line := range strings.SplitSeq(status, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[2] != "kB" || fields[f[0]] == nil {
			continue
		}
		kb, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return residentMemory{}, fmt.Errorf("/proc status line %q: %w", line, err)
		}
		*fields[f[0]] = kb << 10
		found++
	}
	if found != len(fields) {
		return residentMemory{}, fmt.Errorf("/proc status without VmRSS, RssAnon and RssFile (%d of 3 found)", found)
	}
	return r, nil
}
