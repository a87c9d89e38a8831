package injector

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestWindowsShapeNamesOnlyPodsThatCannotRunOnLinux(t *testing.T) {
	osIn := func(values ...string) corev1.NodeSelectorRequirement {
		return corev1.NodeSelectorRequirement{Key: labelOS, Operator: corev1.NodeSelectorOpIn, Values: values}
	}
	affinity := func(terms ...[]corev1.NodeSelectorRequirement) *corev1.Affinity {
		a := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{}}}
		for _, exprs := range terms {
			a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = append(
				a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms, corev1.NodeSelectorTerm{MatchExpressions: exprs})
		}
		return a
	}
	tests := []struct {
		name string
		spec corev1.PodSpec
		want string
	}{
		{name: "a pod that says nothing runs anywhere", want: ""},
		{name: "spec.os.name linux is Linux", spec: corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Linux}}, want: ""},
		{name: "spec.os.name windows is Windows", spec: corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Windows}}, want: "its spec.os.name is windows"},
		{name: "a nodeSelector on linux is Linux", spec: corev1.PodSpec{NodeSelector: map[string]string{labelOS: "linux"}}, want: ""},
		{name: "a nodeSelector on windows is Windows", spec: corev1.PodSpec{NodeSelector: map[string]string{labelOS: "windows"}}, want: "its nodeSelector kubernetes.io/os is windows"},
		{
			name: "required affinity In [windows] in its only term is Windows",
			spec: corev1.PodSpec{Affinity: affinity([]corev1.NodeSelectorRequirement{osIn("windows")})},
			want: "its required node affinity allows only kubernetes.io/os windows",
		},
		{
			name: "required affinity In [windows, linux] admits Linux",
			spec: corev1.PodSpec{Affinity: affinity([]corev1.NodeSelectorRequirement{osIn("windows", "linux")})},
		},
		{
			name: "a second term without an os expression admits Linux",
			spec: corev1.PodSpec{Affinity: affinity([]corev1.NodeSelectorRequirement{osIn("windows")},
				[]corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}})},
		},
		{
			name: "NotIn [linux] is not read as Windows (it also admits other systems)",
			spec: corev1.PodSpec{Affinity: affinity([]corev1.NodeSelectorRequirement{{Key: labelOS, Operator: corev1.NodeSelectorOpNotIn, Values: []string{"linux"}}})},
		},
		{name: "a required affinity without terms constrains nothing", spec: corev1.PodSpec{Affinity: affinity()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := windowsShape(&corev1.Pod{Spec: tt.spec}); got != tt.want {
				t.Errorf("windowsShape = %q, want %q", got, tt.want)
			}
		})
	}
}
