package localcluster

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// PodReady says whether pod runs with every container (native sidecars
// included) Ready.
func PodReady(pod *corev1.Pod) bool {
	if pod.Status.Phase != corev1.PodRunning {
		return false
	}
	return slices.ContainsFunc(pod.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
	})
}

// PodURL is http://POD_IP:port/path, reachable from the node's network.
func PodURL(pod *corev1.Pod, port int, path string) string {
	return "http://" + net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port)) + path
}

// containerCgroupRoots are where the node's kubelet puts its pods' cgroups:
// the memory hierarchy (cgroup v1) or the unified one.
var containerCgroupRoots = []string{"/sys/fs/cgroup/memory/kubepods", "/sys/fs/cgroup/kubepods"}

// ContainerCgroup is the cgroup directory of a running container of the
// node, found by the ID in its status.
func ContainerCgroup(status corev1.ContainerStatus) (string, error) {
	_, id, ok := strings.Cut(status.ContainerID, "://")
	if !ok {
		return "", fmt.Errorf("container %s has no ID yet", status.Name)
	}
	for _, root := range containerCgroupRoots {
		var found string
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && strings.HasSuffix(d.Name(), id) {
				found = path
				return filepath.SkipAll
			}
			return nil
		})
		if found != "" {
			return found, nil
		}
	}
	return "", fmt.Errorf("no cgroup for container %s (%s) under kubepods", status.Name, id)
}

// ContainerPID is the main process of a running container of the node (a
// host PID: /proc/PID is its process).
func ContainerPID(status corev1.ContainerStatus) (int, error) {
	dir, err := ContainerCgroup(status)
	if err != nil {
		return 0, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")) //nolint:gosec // a cgroup of the node's containers
	if err != nil {
		return 0, fmt.Errorf("processes of container %s: %w", status.Name, err)
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 0, fmt.Errorf("container %s has no process", status.Name)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0, fmt.Errorf("processes of container %s: %w", status.Name, err)
	}
	return pid, nil
}
