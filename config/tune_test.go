package config

import "testing"

func TestGOMEMLIMITTuningCoversTheNamespacesItLists(t *testing.T) {
	tests := []struct {
		name       string
		namespaces []string
		namespace  string
		want       bool
	}{
		{"no namespace listed tunes none", nil, "team-a", false},
		{"a listed namespace is tuned", []string{"team-b", "team-a"}, "team-a", true},
		{"another namespace is not", []string{"team-b"}, "team-a", false},
		{"the wildcard tunes every namespace", []string{TuneAllNamespaces}, "team-a", true},
		{"the wildcard tunes a pod with no namespace (offline)", []string{TuneAllNamespaces}, "", true},
		{"an unknown namespace matches no listed name", []string{"team-a"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tuning := GOMEMLIMITTuning{Namespaces: tt.namespaces, Percent: DefaultGOMEMLIMITPercent}
			if got := tuning.In(tt.namespace); got != tt.want {
				t.Errorf("In(%q) with namespaces %q = %v, want %v", tt.namespace, tt.namespaces, got, tt.want)
			}
		})
	}
}
