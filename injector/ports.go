package injector

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// portUser says who already has a port in the pod's network namespace.
type portUser struct {
	port int32
	who  string
}

// usedPorts lists the ports the sidecar must not listen on: every
// containerPort of the pod's containers and init containers (whatever its
// protocol: a clash confuses people even where the kernel would allow it),
// then the app's debug ports, which the app listens on whether it declares
// them or not.
func usedPorts(pod *corev1.Pod, targetPorts []int32) []portUser {
	var used []portUser
	add := func(kind string, containers []corev1.Container) {
		for i := range containers {
			for _, p := range containers[i].Ports {
				used = append(used, portUser{port: p.ContainerPort, who: fmt.Sprintf("%s %q", kind, containers[i].Name)})
			}
		}
	}
	add("container", pod.Spec.Containers)
	add("init container", pod.Spec.InitContainers)
	for _, p := range targetPorts {
		used = append(used, portUser{port: p, who: "the app's debug server"})
	}
	return used
}

// choosePort returns preferred if nothing in the pod uses it, else the next
// free port upward (wrapping past 65535 to 1024), and a warning saying why.
// It is linear in the number of ports, however many the pod declares.
func choosePort(preferred int32, used []portUser) (int32, string) {
	port, holder := freePort(preferred, used)
	if holder == "" {
		return port, ""
	}
	return port, fmt.Sprintf("port %d is already used by %s; the sidecar listens on port %d instead",
		preferred, holder, port)
}

// freePort is choosePort without the warning: the port, and who uses the
// preferred port ("" when it is free).
func freePort(preferred int32, used []portUser) (int32, string) {
	first := slices.IndexFunc(used, func(u portUser) bool { return u.port == preferred })
	if first < 0 {
		return preferred, ""
	}
	var taken [65536 / 64]uint64
	for _, u := range used {
		if u.port >= 1 && u.port <= 65535 {
			taken[u.port/64] |= 1 << (u.port % 64)
		}
	}
	port := preferred
	for range 65535 {
		port++
		if port > 65535 {
			port = 1024
		}
		if taken[port/64]&(1<<(port%64)) == 0 {
			break
		}
	}
	return port, used[first].who
}
