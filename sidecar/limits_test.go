package sidecar

import (
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar/findings"
)

func TestLimitsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    findings.Limits
		wantErr string
	}{
		{name: "nothing set is every limit unknown", want: findings.Limits{}},
		{
			name: "a memory limit, 1500m of CPU and the app's GOMEMLIMIT",
			env:  map[string]string{sidecarconf.EnvAppMemoryLimit: "134217728", sidecarconf.EnvAppCPULimitMillis: "1500", sidecarconf.EnvAppGOMEMLIMIT: "100MiB"},
			want: findings.Limits{MemoryBytes: 134217728, CPU: 1.5, GOMEMLIMITEnv: "100MiB"},
		},
		{
			name:    "a malformed memory limit is named and left unknown, the CPU limit is kept",
			env:     map[string]string{sidecarconf.EnvAppMemoryLimit: "128Mi", sidecarconf.EnvAppCPULimitMillis: "250"},
			want:    findings.Limits{CPU: 0.25},
			wantErr: sidecarconf.EnvAppMemoryLimit + `="128Mi" is not a positive number of bytes`,
		},
		{
			name:    "a zero CPU limit is malformed",
			env:     map[string]string{sidecarconf.EnvAppCPULimitMillis: "0"},
			wantErr: sidecarconf.EnvAppCPULimitMillis + `="0" is not a positive number of millicores`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LimitsFromEnv(func(k string) string { return tt.env[k] })
			if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			tt.want.NumCPU = runtime.NumCPU()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("limits (-want +got):\n%s", diff)
			}
		})
	}
}
