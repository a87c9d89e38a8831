package diagnostics

import (
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gopherscope/gopherscope/config"
)

// sidecarAddress is where the pod's sidecar serves diagnostics: the pod's
// IP and the sidecar's diagnostics port. The errors are API statuses that
// say what is missing.
func sidecarAddress(pod *corev1.Pod) (string, error) {
	port, ok := diagnosticsPort(pod)
	if !ok {
		return "", apierrors.NewNotFound(corev1.Resource("pods/diagnostics"),
			fmt.Sprintf("%s/%s: the pod has no gopherscope sidecar with a %s port (it is not injected, or was injected before diagnostics were enabled: re-create it)",
				pod.Namespace, pod.Name, config.SidecarDiagnosticsPortName))
	}
	if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("pod %s/%s is %s, without a running sidecar to ask", pod.Namespace, pod.Name, phase(pod)))
	}
	return net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(int(port))), nil
}

// diagnosticsPort finds the sidecar container's diagnostics port, as an
// init container (a native sidecar) or an ordinary one.
func diagnosticsPort(pod *corev1.Pod) (int32, bool) {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if c.Name != config.SidecarContainerName {
				continue
			}
			for _, p := range c.Ports {
				if p.Name == config.SidecarDiagnosticsPortName && p.ContainerPort > 0 {
					return p.ContainerPort, true
				}
			}
		}
	}
	return 0, false
}

func phase(pod *corev1.Pod) string {
	if pod.Status.Phase == "" {
		return "not yet scheduled"
	}
	return string(pod.Status.Phase)
}
