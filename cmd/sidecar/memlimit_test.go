package main

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
)

func TestSetMemoryLimit(t *testing.T) {
	const unset = int64(math.MaxInt64)
	tests := []struct {
		name    string
		env     map[string]string
		want    int64 // the soft limit afterwards
		wantErr string
	}{
		{name: "a 64Mi container limit gives a soft limit of 80% of it", env: map[string]string{sidecarconf.EnvMemoryLimit: "67108864"}, want: 53687091},
		{name: "GOMEMLIMIT set by the operator wins", env: map[string]string{sidecarconf.EnvMemoryLimit: "67108864", envGOMEMLIMIT: "100MiB"}, want: unset},
		{name: "without the variable no limit is set", env: map[string]string{}, want: unset},
		{name: "a value that is not a number of bytes is an error and sets nothing", env: map[string]string{sidecarconf.EnvMemoryLimit: "64Mi"}, want: unset, wantErr: `GOPHERSCOPE_MEMORY_LIMIT="64Mi" is not a number of bytes`},
		{name: "zero is an error and sets nothing", env: map[string]string{sidecarconf.EnvMemoryLimit: "0"}, want: unset, wantErr: "is not a number of bytes"},
		{name: "a limit beyond any machine sets none", env: map[string]string{sidecarconf.EnvMemoryLimit: "9223372036854775807"}, want: unset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := debug.SetMemoryLimit(unset)
			defer debug.SetMemoryLimit(before)
			set, err := setMemoryLimit(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.want {
				t.Errorf("soft memory limit = %d, want %d", got, tt.want)
			}
			if tt.want != unset && set != tt.want {
				t.Errorf("setMemoryLimit returned %d, want the limit it set, %d", set, tt.want)
			}
		})
	}
}
