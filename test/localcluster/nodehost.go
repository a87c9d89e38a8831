package localcluster

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What the node changes on the machine outside its run directory, and how
// it is put back. The kubelet sets global sysctls and writes a few fixed
// paths; containerd names pod network namespaces under /var/run/netns; both
// make cgroup directories. hostState records, before the node starts, what
// was there, so that a stop, or the next start after a killed run, restores
// the sysctls and removes only what the node made. The machine's own cgroups
// and processes are never touched: only processes in the node's cgroups or
// started with the run directory in their command line are killed.

// hostSysctls are the global sysctls the kubelet sets (kernel.* and vm.* are
// not per network namespace).
var hostSysctls = []string{"kernel.panic", "kernel.panic_on_oops", "vm.overcommit_memory"}

// hostPaths are the fixed paths the kubelet, containerd and CNI write outside
// the run directory.
var hostPaths = []string{"/var/lib/kubelet", "/var/log/containers", "/var/lib/cni", "/run/containerd", "/etc/cni"}

// nodeCgroups are the cgroup directories the kubelet (cgroupfs driver) and
// containerd make under each hierarchy.
var nodeCgroups = []string{"kubepods", "k8s.io"}

// hostState is what the machine had before the node started.
type hostState struct {
	Sysctls map[string]string `json:"sysctls"`
	// Created are the hostPaths and cgroup directories that did not exist.
	Created []string `json:"created"`
	// Netns are the network namespaces that existed.
	Netns []string `json:"netns"`
}

func hostStatePath(runDir string) string { return filepath.Join(runDir, "host-state.json") }

// recordHostState writes what the machine has now into the run directory.
func recordHostState(runDir string) error {
	st := hostState{Sysctls: map[string]string{}}
	for _, name := range hostSysctls {
		b, err := os.ReadFile(sysctlPath(name))
		if err != nil {
			return fmt.Errorf("read sysctl %s: %w", name, err)
		}
		st.Sysctls[name] = strings.TrimSpace(string(b))
	}
	candidates := slices.Clone(hostPaths)
	for _, h := range cgroupHierarchies() {
		for _, c := range nodeCgroups {
			candidates = append(candidates, filepath.Join(h, c))
		}
	}
	for _, p := range candidates {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			st.Created = append(st.Created, p)
		}
	}
	st.Netns = netnsNames()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode host state: %w", err)
	}
	return os.WriteFile(hostStatePath(runDir), b, 0o600)
}

// restoreHost puts the machine back as recordHostState found it: it kills
// what the node left running, unmounts what it mounted, restores the
// sysctls and removes what it created. Without a record (no run, or one
// that never got that far) there is nothing of ours to undo.
func restoreHost(runDir string) error {
	b, err := os.ReadFile(hostStatePath(runDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read host state: %w", err)
	}
	var st hostState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("decode host state %s: %w", hostStatePath(runDir), err)
	}
	var errs []error
	killNodeProcesses(runDir)
	for _, ns := range netnsNames() {
		if strings.HasPrefix(ns, "cni-") && !slices.Contains(st.Netns, ns) {
			errs = append(errs, removeNetns(ns))
		}
	}
	errs = append(errs, unmountUnder(runDir))
	for name, value := range st.Sysctls {
		if err := os.WriteFile(sysctlPath(name), []byte(value), 0o600); err != nil {
			errs = append(errs, fmt.Errorf("restore sysctl %s=%s: %w", name, value, err))
		}
	}
	for _, p := range st.Created {
		if strings.HasPrefix(p, "/sys/fs/cgroup/") {
			errs = append(errs, removeCgroupTree(p))
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return os.Remove(hostStatePath(runDir))
}

func sysctlPath(name string) string {
	return "/proc/sys/" + strings.ReplaceAll(name, ".", "/")
}

// cgroupHierarchies are the mounted cgroup hierarchies (v1 controllers, or
// the v2 root).
func cgroupHierarchies() []string {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{"/sys/fs/cgroup"}
	}
	entries, _ := os.ReadDir("/sys/fs/cgroup")
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", e.Name()))
		}
	}
	return dirs
}

// killNodeProcesses SIGKILLs every process in the node's cgroups (the
// containers) and every process whose command line names the run directory
// (the node's components and containerd's shims), never this process or its
// parents, and waits briefly for them to go.
func killNodeProcesses(runDir string) {
	victims := nodeCgroupProcs()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), runDir) {
			victims = append(victims, pid)
		}
	}
	killProcesses(victims)
}

// nodeCgroupProcs lists the processes in the node's cgroups: the containers.
func nodeCgroupProcs() []int {
	var pids []int
	for _, h := range cgroupHierarchies() {
		for _, c := range nodeCgroups {
			pids = append(pids, cgroupProcs(filepath.Join(h, c))...)
		}
	}
	return pids
}

// killProcesses SIGKILLs victims, never this process or its parents, and
// waits briefly for them to go.
func killProcesses(victims []int) {
	self := map[int]bool{}
	for pid := os.Getpid(); pid > 1; pid = parentPID(pid) {
		self[pid] = true
	}
	for _, pid := range victims {
		if !self[pid] {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !slices.ContainsFunc(victims, func(pid int) bool { return !self[pid] && alive(pid) }) {
			return
		}
	}
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie has exited; its parent has yet to reap it.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func parentPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// cgroupProcs lists the processes in the cgroup tree at dir.
func cgroupProcs(dir string) []int {
	var pids []int
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return nil //nolint:nilerr // a cgroup that vanished has no processes
		}
		f, err := os.Open(path) //nolint:gosec // a cgroup file of the node's
		if err != nil {
			return nil //nolint:nilerr // as above
		}
		defer func() { _ = f.Close() }()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if pid, err := strconv.Atoi(s.Text()); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids
}

// removeCgroupTree removes the (empty) cgroup directories at dir, deepest first.
func removeCgroupTree(dir string) error {
	var dirs []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	var errs []error
	for _, d := range slices.Backward(dirs) {
		if err := syscall.Rmdir(d); err != nil && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// unmountUnder detaches every mount at or below dir, deepest first.
func unmountUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return fmt.Errorf("read mounts: %w", err)
	}
	var points []string
	for line := range strings.Lines(string(b)) {
		fields := strings.Fields(line)
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) {
			points = append(points, fields[4])
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

func netnsNames() []string {
	entries, _ := os.ReadDir("/var/run/netns")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// removeNetns deletes a pod network namespace containerd left behind.
func removeNetns(name string) error {
	p := filepath.Join("/var/run/netns", name)
	if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("unmount network namespace %s: %w", name, err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove network namespace %s: %w", name, err)
	}
	return nil
}
