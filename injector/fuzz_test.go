package injector

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/config"
)

// maxFuzzPodYAML bounds the pod document the fuzzer may hand to the YAML
// decoder, so time goes into the injector rather than into decoding.
const maxFuzzPodYAML = 64 << 10

// FuzzInject builds a pod from a fuzzed YAML document (seeded with the
// golden inputs) overlaid with fuzzed annotation values (the tuning among them), inject labels and
// an extra container, and checks the properties of checkInjectProperties:
// no panic, the input untouched, inject∘inject = inject, and nothing the
// user wrote removed or reordered.
func FuzzInject(f *testing.F) {
	for _, c := range loadAllCases(f) {
		if c.name == manyEnvCase {
			continue // too big a seed to mutate usefully
		}
		podYAML, err := yaml.Marshal(c.pod)
		if err != nil {
			f.Fatalf("marshal %s: %v", c.name, err)
		}
		a := c.pod.Annotations
		f.Add(podYAML, a[config.AnnotationPort], a[config.AnnotationExpvarPath], a[config.AnnotationContainer],
			a[config.AnnotationInterval], a[config.AnnotationSidecarCPU], a[config.AnnotationSidecarImage],
			a[config.AnnotationTune], c.pod.Labels[config.KeyInject], c.ns.Labels[config.KeyInject], int32(9184), "extra", c.cfg.Strict, c.ns.Offline)
	}
	bundle := testDiagnosticsCA(f)
	f.Fuzz(func(t *testing.T, podYAML []byte, port, path, container, interval, quantity, image, tune, podLabel, nsLabel string,
		containerPort int32, containerName string, strict, offline bool,
	) {
		pod := &corev1.Pod{}
		if len(podYAML) > maxFuzzPodYAML || yaml.Unmarshal(podYAML, pod) != nil {
			pod = &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}
		}
		set := func(m *map[string]string, key, value string) {
			if value == "" {
				return
			}
			if *m == nil {
				*m = map[string]string{}
			}
			(*m)[key] = value
		}
		set(&pod.Annotations, config.AnnotationPort, port)
		set(&pod.Annotations, config.AnnotationExpvarPath, path)
		set(&pod.Annotations, config.AnnotationMetricsPath, path)
		set(&pod.Annotations, config.AnnotationContainer, container)
		set(&pod.Annotations, config.AnnotationInterval, interval)
		set(&pod.Annotations, config.AnnotationSidecarCPU, quantity)
		set(&pod.Annotations, config.AnnotationSidecarMemory, quantity)
		set(&pod.Annotations, config.AnnotationSidecarImage, image)
		set(&pod.Annotations, config.AnnotationTune, tune)
		set(&pod.Labels, config.KeyInject, podLabel)
		if containerName != "" {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{
				Name:  containerName,
				Ports: []corev1.ContainerPort{{ContainerPort: containerPort}},
			})
		}

		cfg := config.Default(testVersion)
		cfg.InjectorVersion = testVersion
		cfg.Strict = strict
		if containerPort%2 == 0 {
			// Half the runs ask for a diagnostics port, with a bundle unless offline.
			cfg.Sidecar.DiagnosticsPort = 9185
			if !offline {
				cfg.DiagnosticsCA = bundle
			}
		}
		ns := Namespace{Name: "fuzz", Labels: map[string]string{config.KeyInject: nsLabel}, Offline: offline}
		checkInjectProperties(t, pod, ns, cfg)
	})
}
