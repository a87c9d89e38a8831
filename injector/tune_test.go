package injector

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gopherscope/gopherscope/config"
)

func TestParseTuningsKeepsKnownValuesAndNamesTheOthers(t *testing.T) {
	tests := []struct {
		name      string
		value     string
		want      bool
		wantIssue string
	}{
		{"gomemlimit alone", "gomemlimit", true, ""},
		{"gomemlimit with spaces and a repeat", " gomemlimit , gomemlimit", true, ""},
		{"an unknown value next to a known one", "gomaxprocs,gomemlimit", true, `names "gomaxprocs", which gopherscope does not know (it knows gomemlimit)`},
		{"only unknown values, each named once", "gogc,gogc,x", false, `names "gogc", "x", which`},
		{"an empty value", "", false, `names "", which`},
		{"a very long value", strings.Repeat("gomemlimit,", 20), false, "is longer than 128 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, issue := parseTunings(tt.value)
			if got != tt.want || (tt.wantIssue == "") != (issue == "") || !strings.Contains(issue, tt.wantIssue) {
				t.Errorf("parseTunings(%q) = %v, %q; want %v and an issue containing %q", tt.value, got, issue, tt.want, tt.wantIssue)
			}
		})
	}
}

func TestTuneGOMEMLIMITSetsTheShareInWholeBytes(t *testing.T) {
	tests := []struct {
		name    string
		limit   string
		percent int32
		want    string
	}{
		{"90% of 128Mi, rounded down", "128Mi", 90, "120795955"},
		{"all of a decimal limit", "500M", 100, "500000000"},
		{"1% of a limit that is not a multiple of 100", "1001", 1, "10"},
		{"the largest limit does not overflow", "8Ei", 99, "9131138316486228048"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name:      "app",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(tt.limit)}},
			}}}}
			got, warning := tuneGOMEMLIMIT(pod, &settings{appContainer: "app", tuneGOMEMLIMIT: true}, tt.percent, "")
			if got != tt.want || warning != "" {
				t.Fatalf("tuneGOMEMLIMIT = %q, %q; want %q and no warning", got, warning, tt.want)
			}
			if env := pod.Spec.Containers[0].Env; len(env) != 1 || env[0] != (corev1.EnvVar{Name: config.EnvGOMEMLIMIT, Value: tt.want}) {
				t.Errorf("the container's env is %v, want GOMEMLIMIT=%s", env, tt.want)
			}
		})
	}
}
