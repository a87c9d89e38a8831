package demo

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/gopherscope/gopherscope/config"
)

// Ports of the demo pod: the app's HTTP server (with the knobs) and its
// debug server (expvar and pprof, gopherscope's default target port).
const (
	appPort   = 8080
	debugPort = 6060
)

// demoFindingThresholds are the demo pod's leak thresholds: three windows
// of 2 s, each with a higher minimum, 30 goroutines more in all.
const demoFindingThresholds = "leak-window=2s,leak-windows=3,leak-min-growth=30"

// demoPod is the pod a user would get from a Deployment of a Go service: the
// demo app with its debug server on the default port, a couple of
// gopherscope annotations, nothing gopherscope-specific otherwise.
func demoPod(namespace string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      "checkout-6d5f7c9b8-x2x7q",
			Namespace: namespace,
			Labels:    map[string]string{"app.kubernetes.io/name": "checkout", "pod-template-hash": "6d5f7c9b8"},
			Annotations: map[string]string{
				config.AnnotationInterval:      "1s",   // sample every second, so the demo moves
				config.AnnotationSidecarMemory: "32Mi", // a little more headroom than the default
				// GOMEMLIMIT at 90% of the app's memory limit, set by the injector.
				config.AnnotationTune: config.TuningGOMEMLIMIT,
				// A leak suspected within seconds rather than minutes, so the
				// demo's leak knob raises a finding while you watch.
				config.AnnotationFindings: demoFindingThresholds,
			},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "app",
				Image: "ghcr.io/gopherscope/demo-app:latest",
				Args:  []string{"--address=:8080", "--debug-address=:6060", "--alloc-rate=4MiB/s"},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: appPort}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
				},
			}},
		},
	}
}
