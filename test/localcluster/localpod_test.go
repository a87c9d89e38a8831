package localcluster

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTranslateArgsMapsPodPortsConsistentlyAcrossContainers(t *testing.T) {
	p := &Pod{ports: map[int]int{}}
	app, err := p.translateArgs([]string{"--debug-address=:6060", "--address=0.0.0.0:8080", "--alloc-rate=4MiB/s", "positional"})
	if err != nil {
		t.Fatal(err)
	}
	sidecar, err := p.translateArgs([]string{"--target-ports=6060,7070", "--listen-address=:9184", "--interval=1s"})
	if err != nil {
		t.Fatal(err)
	}
	local := func(podPort int) string { return strconv.Itoa(p.LocalPort(podPort)) }
	for _, port := range []int{6060, 7070, 8080, 9184} {
		if p.LocalPort(port) == 0 {
			t.Fatalf("pod port %d has no local port; ports = %v", port, p.ports)
		}
	}
	wantApp := []string{"--debug-address=127.0.0.1:" + local(6060), "--address=127.0.0.1:" + local(8080), "--alloc-rate=4MiB/s", "positional"}
	if diff := cmp.Diff(wantApp, app); diff != "" {
		t.Errorf("app args (-want +got):\n%s", diff)
	}
	wantSidecar := []string{"--target-ports=" + local(6060) + "," + local(7070), "--listen-address=127.0.0.1:" + local(9184), "--interval=1s"}
	if diff := cmp.Diff(wantSidecar, sidecar); diff != "" {
		t.Errorf("sidecar args (-want +got):\n%s", diff)
	}
	if got := p.URL(9184, "/metrics"); got != "http://127.0.0.1:"+local(9184)+"/metrics" {
		t.Errorf("URL = %q", got)
	}
}

func TestTranslateArgsRefusesWhatItCannotMap(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		want string
	}{
		{"a listen address without a port", "--listen-address=localhost", "want host:port"},
		{"a port list with a name in it", "--target-ports=6060,http", `"http" is not a port`},
		{"a port out of range", "--debug-address=:70000", `"70000" is not a port`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pod{ports: map[int]int{}}
			_, err := p.translateArgs([]string{tt.arg})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("translateArgs(%q) error = %v, want it to contain %q", tt.arg, err, tt.want)
			}
		})
	}
}

func TestResolveEnv(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "u-1"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "sidecar", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi"), corev1.ResourceCPU: resource.MustParse("100m")},
		}}},
	}}
	limit := func(name, divisor string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "sidecar", Resource: name, Divisor: resource.MustParse(divisor)}}
	}
	field := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	got, err := resolveEnv(pod, []corev1.EnvVar{
		{Name: "POD_NAME", ValueFrom: field("metadata.name")},
		{Name: "POD_NAMESPACE", ValueFrom: field("metadata.namespace")},
		{Name: "POD_UID", ValueFrom: field("metadata.uid")},
		{Name: "POD_IP", ValueFrom: field("status.podIP")},
		{Name: "PLAIN", Value: "a=b"},
		{Name: "MEMORY_LIMIT", ValueFrom: limit("limits.memory", "1")},
		{Name: "CPU_LIMIT", ValueFrom: limit("limits.cpu", "1")},
		{Name: "MEMORY_LIMIT_MI", ValueFrom: limit("limits.memory", "1Mi")},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"POD_NAME=web", "POD_NAMESPACE=shop", "POD_UID=u-1", "POD_IP=127.0.0.1", "PLAIN=a=b",
		"MEMORY_LIMIT=67108864", "CPU_LIMIT=1", "MEMORY_LIMIT_MI=64"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}

	for _, v := range []corev1.EnvVar{
		{Name: "NODE", ValueFrom: field("spec.nodeName")},
		{Name: "SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}},
		{Name: "MEMORY_REQUEST", ValueFrom: limit("requests.memory", "1")},
	} {
		if _, err := resolveEnv(pod, []corev1.EnvVar{v}); err == nil || !strings.Contains(err.Error(), v.Name) {
			t.Errorf("resolveEnv(%s) error = %v, want an error naming it", v.Name, err)
		}
	}
}

func TestRunPodRefusesAnUnknownContainer(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
	}
	_, err := RunPod(PodOptions{Pod: pod, Binaries: map[string]string{"gopherscope-sidecar": "/bin/true"}, LogDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `no container or native sidecar "gopherscope-sidecar"`) {
		t.Errorf("RunPod error = %v, want it to name the missing container", err)
	}
}
