package injector

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
)

func TestAppEnvPassesOnlyWhatTheAppContainerSets(t *testing.T) {
	tests := []struct {
		name string
		env  []corev1.EnvVar
		want []corev1.EnvVar
	}{
		{"nothing set gives nothing", nil, nil},
		{"the last of two entries wins, as in the kubelet", []corev1.EnvVar{{Name: "GOGC", Value: "50"}, {Name: "GOGC", Value: "off"}},
			[]corev1.EnvVar{{Name: sidecarconf.EnvAppGOGC, Value: "off"}}},
		{"a value from a ConfigMap is not known at admission", []corev1.EnvVar{{Name: "GOMAXPROCS", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{Key: "procs"}}}}, nil},
		{"a value the kubelet would expand is left out", []corev1.EnvVar{{Name: "GOMEMLIMIT", Value: "$(LIMIT)"}}, nil},
		{"each variable in a fixed order", []corev1.EnvVar{{Name: "GOMAXPROCS", Value: "2"}, {Name: "GOMEMLIMIT", Value: "1GiB"}, {Name: "GOGC", Value: "200"}},
			[]corev1.EnvVar{{Name: sidecarconf.EnvAppGOMEMLIMIT, Value: "1GiB"}, {Name: sidecarconf.EnvAppGOGC, Value: "200"}, {Name: sidecarconf.EnvAppGOMAXPROCS, Value: "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appEnv(&corev1.Container{Name: "app", Env: tt.env})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("appEnv (-want +got):\n%s", diff)
			}
		})
	}
}
