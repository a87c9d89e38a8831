//go:build e2e

package e2e

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/injector"
)

// The demo app's ports in the pods the tests create.
const (
	appDebugPort = 6060 // expvar and pprof: the default gopherscope.io/port
	appHTTPPort  = 8080 // the app server with the knobs
)

// goPod is a Go service's pod as a user writes it: the demo app with its
// debug server on the default port. labels and annotations may be nil.
func goPod(namespace, name string, labels, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels, Annotations: annotations},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "app",
				Image: "ghcr.io/gopherscope/demo-app:" + testVersion,
				Args: []string{
					"--debug-address=:" + strconv.Itoa(appDebugPort),
					"--address=:" + strconv.Itoa(appHTTPPort),
				},
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: appHTTPPort}},
			}},
		},
	}
}

// assertInjected checks that stored carries exactly the sidecar and
// annotations the default chart configuration injects, sampling at interval.
func assertInjected(t *testing.T, stored *corev1.Pod, interval string) {
	t.Helper()
	if got := containerNames(stored.Spec.Containers); !cmp.Equal(got, []string{"app"}) {
		t.Errorf("containers = %q, want only the user's [app]", got)
	}
	if got := containerNames(stored.Spec.InitContainers); !cmp.Equal(got, []string{config.SidecarContainerName}) {
		t.Fatalf("init containers = %q, want the native sidecar %s", got, config.SidecarContainerName)
	}
	sc := stored.Spec.InitContainers[0]
	if sc.RestartPolicy == nil || *sc.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Errorf("sidecar restartPolicy = %v, want Always (a native sidecar on a 1.37 API server)", sc.RestartPolicy)
	}
	if want := sidecarImage(t); sc.Image != want {
		t.Errorf("sidecar image = %q, want %q", sc.Image, want)
	}
	wantArgs := []string{
		"--target-ports=6060",
		"--expvar-path=/debug/vars",
		"--pprof-path=/debug/pprof",
		"--interval=" + interval,
		"--listen-address=:9184",
		"--history=1h0m0s",
	}
	if diff := cmp.Diff(wantArgs, sc.Args); diff != "" {
		t.Errorf("sidecar args (-want +got):\n%s", diff)
	}
	fieldRef := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}
	}
	wantEnv := []corev1.EnvVar{
		{Name: config.EnvPodName, ValueFrom: fieldRef("metadata.name")},
		{Name: config.EnvPodNamespace, ValueFrom: fieldRef("metadata.namespace")},
		{Name: config.EnvAppContainer, Value: "app"},
		{Name: sidecarconf.EnvMemoryLimit, ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{
			ContainerName: config.SidecarContainerName, Resource: "limits.memory", Divisor: resource.MustParse("1"),
		}}},
	}
	if diff := cmp.Diff(wantEnv, sc.Env); diff != "" {
		t.Errorf("sidecar env (-want +got):\n%s", diff)
	}
	wantPorts := []corev1.ContainerPort{{Name: config.SidecarPortName, ContainerPort: 9184, Protocol: corev1.ProtocolTCP}}
	if diff := cmp.Diff(wantPorts, sc.Ports); diff != "" {
		t.Errorf("sidecar ports (-want +got):\n%s", diff)
	}
	if sc.SecurityContext == nil || sc.SecurityContext.RunAsNonRoot == nil || !*sc.SecurityContext.RunAsNonRoot ||
		sc.SecurityContext.ReadOnlyRootFilesystem == nil || !*sc.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("sidecar securityContext = %+v, want non-root with a read-only root filesystem", sc.SecurityContext)
	}

	ann := stored.Annotations
	status, err := injector.ParseStatus(ann[config.AnnotationStatus])
	if err != nil {
		t.Fatalf("status annotation %q: %v", ann[config.AnnotationStatus], err)
	}
	wantStatus := injector.Status{
		Version:     testVersion,
		Sidecar:     config.SidecarContainerName,
		Native:      true,
		NativeBasis: "apiserver 1.37",
		Port:        9184,
		Target: injector.StatusTarget{
			Container: "app", Ports: []int32{6060}, ExpvarPath: "/debug/vars", PprofPath: "/debug/pprof",
		},
	}
	// The warnings it records are checked where a test causes them.
	if diff := cmp.Diff(wantStatus, status, cmpopts.IgnoreFields(injector.Status{}, "Warnings")); diff != "" {
		t.Errorf("status annotation (-want +got):\n%s", diff)
	}
	for key, want := range map[string]string{
		config.AnnotationPrometheusScrape: "true",
		config.AnnotationPrometheusPort:   "9184",
		config.AnnotationPrometheusPath:   "/metrics",
		config.AnnotationDefaultContainer: "app",
	} {
		if ann[key] != want {
			t.Errorf("annotation %s = %q, want %q", key, ann[key], want)
		}
	}
}

// assertUntouched checks that stored has the containers and annotations
// that were submitted, nothing more.
func assertUntouched(t *testing.T, stored, submitted *corev1.Pod) {
	t.Helper()
	if got, want := containerNames(stored.Spec.Containers), containerNames(submitted.Spec.Containers); !cmp.Equal(got, want) {
		t.Errorf("containers = %q, want the submitted %q", got, want)
	}
	if got := containerNames(stored.Spec.InitContainers); len(got) != 0 {
		t.Errorf("init containers = %q, want none", got)
	}
	if diff := cmp.Diff(submitted.Annotations, stored.Annotations, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("annotations changed (-submitted +stored):\n%s", diff)
	}
}

func containerNames(cs []corev1.Container) []string {
	names := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}
