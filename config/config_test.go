package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestDefaultIsValid(t *testing.T) {
	tests := []struct {
		name      string
		version   string
		wantImage string
	}{
		{"a release points at its own tag", "v1.2.3", DefaultSidecarImage + ":v1.2.3"},
		{"a dev build points at latest", "dev", DefaultSidecarImage + ":latest"},
		{"no version points at latest", "", DefaultSidecarImage + ":latest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default(tt.version)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Default(%q).Validate() = %v", tt.version, err)
			}
			if cfg.Sidecar.Image != tt.wantImage {
				t.Errorf("image = %q, want %q", cfg.Sidecar.Image, tt.wantImage)
			}
			if cfg.Sidecar.Port != DefaultSidecarPort || cfg.Interval.Duration != DefaultInterval ||
				cfg.NativeSidecar != NativeSidecarAuto || !cfg.IsExcludedNamespace("kube-system") {
				t.Errorf("unexpected defaults: %+v", cfg)
			}
		})
	}
}

func TestParseOverDefaults(t *testing.T) {
	data := []byte(`
apiVersion: gopherscope.io/v1alpha1
kind: InjectionConfig
sidecar:
  image: registry.internal/gs/sidecar:v9
  port: 9500
  diagnosticsPort: 9501
  resources:
    limits:
      memory: 48Mi
target:
  ports: [8081, 6060]
  metricsPath: /prom
interval: 15s
nativeSidecar: never
strict: true
excludedNamespaces: [kube-system, gopherscope]
tune:
  gomemlimit:
    namespaces: [team-a]
    percent: 80
`)
	got, err := Parse(data, "v1.0.0")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := Default("v1.0.0")
	want.Sidecar.Image = "registry.internal/gs/sidecar:v9"
	want.Sidecar.Port = 9500
	want.Sidecar.DiagnosticsPort = 9501
	want.Sidecar.Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("48Mi")}}
	want.Target.Ports = []int32{8081, 6060}
	want.Target.MetricsPath = "/prom"
	want.Interval.Duration = 15 * time.Second
	want.NativeSidecar = NativeSidecarNever
	want.Strict = true
	want.ExcludedNamespaces = []string{"kube-system", "gopherscope"}
	want.Tune.GOMEMLIMIT = GOMEMLIMITTuning{Namespaces: []string{"team-a"}, Percent: 80}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestParseEmptyDocumentGivesDefaults(t *testing.T) {
	got, err := Parse([]byte("  \n"), "v1.0.0")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if diff := cmp.Diff(Default("v1.0.0"), got); diff != "" {
		t.Errorf("Parse of nothing (-want +got):\n%s", diff)
	}
}

func TestParseRefusesWhatIsNotConfig(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{"an unknown field", "sidecar:\n  imgae: x\n", `unknown field "imgae"`},
		{"the injector version, which is not part of the file", "injectorVersion: v9\n", `unknown field "injectorVersion"`},
		{"the diagnostics CA, which is not part of the file", "diagnosticsCA: x\n", `unknown field "diagnosticsCA"`},
		{"the diagnostics port misspelt", "sidecar:\n  diagnosticPort: 9185\n", `unknown field "diagnosticPort"`},
		{"the diagnostics port at the top level", "diagnosticsPort: 9185\n", `unknown field "diagnosticsPort"`},
		{"a diagnostics port on the metrics port", "sidecar:\n  diagnosticsPort: 9184\n", "sidecar.diagnosticsPort: 9184 is also sidecar.port"},
		{"a wrong type", "sidecar:\n  port: many\n", "decode"},
		{"a bad duration", "interval: soon\n", "decode"},
		{"a valid document with an invalid value", "interval: 100ms\n", "interval: 100ms is shorter than the minimum 1s"},
		{"another kind", "kind: Deployment\n", `kind: "Deployment" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.data), "v1.0.0")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte("strict: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, "v1.0.0")
	if err != nil || !cfg.Strict {
		t.Errorf("Load = %+v, %v; want strict config", cfg, err)
	}
	missing := filepath.Join(dir, "missing.yaml")
	if _, err := Load(missing, "v1.0.0"); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Load of a missing file: error %v, want one naming the file", err)
	}
}

func TestResolveNativeSidecar(t *testing.T) {
	tests := []struct {
		name  string
		mode  NativeSidecarMode
		minor int
		want  NativeSidecarMode
	}{
		{"auto on 1.29 (kubelets included) is always", NativeSidecarAuto, 29, NativeSidecarAlways},
		{"auto on 1.28 is never", NativeSidecarAuto, 28, NativeSidecarNever},
		{"unset counts as auto", "", 33, NativeSidecarAlways},
		{"never stays never on a new server", NativeSidecarNever, 40, NativeSidecarNever},
		{"always stays always on an old server", NativeSidecarAlways, 20, NativeSidecarAlways},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default("v1")
			cfg.NativeSidecar = tt.mode
			got := cfg.ResolveNativeSidecar(tt.minor)
			if got.NativeSidecar != tt.want || cfg.NativeSidecar != tt.mode {
				t.Errorf("resolved %q, original now %q; want %q and %q unchanged", got.NativeSidecar, cfg.NativeSidecar, tt.want, tt.mode)
			}
		})
	}
}

func TestDeepCopySharesNothing(t *testing.T) {
	cfg := Default("v1")
	cfg.InjectorVersion = "v1"
	cfg.ExcludedNamespaces = []string{"team-a"}
	cfg.Tune.GOMEMLIMIT.Namespaces = []string{"team-b"}
	cp := cfg.DeepCopy()
	cp.Target.Ports[0] = 1
	cp.ExcludedNamespaces[0] = "changed"
	cp.Tune.GOMEMLIMIT.Namespaces[0] = "changed"
	cp.Sidecar.Resources.Requests[corev1.ResourceCPU] = resource.MustParse("1")
	want := Default("v1")
	want.InjectorVersion = "v1"
	want.ExcludedNamespaces = []string{"team-a"}
	want.Tune.GOMEMLIMIT.Namespaces = []string{"team-b"}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("changing the copy changed the original (-want +got):\n%s", diff)
	}
	if cp.InjectorVersion != "v1" {
		t.Errorf("copy lost InjectorVersion: %q", cp.InjectorVersion)
	}
}

func TestSystemNamespacesAreAlwaysExcluded(t *testing.T) {
	// A config file that lists its own exclusions replaces the list; the
	// system namespaces must stay excluded all the same.
	cfg, err := Parse([]byte("excludedNamespaces: [team-a]\n"), "v1")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	for _, ns := range append([]string{"team-a"}, SystemNamespaces...) {
		if !cfg.IsExcludedNamespace(ns) {
			t.Errorf("IsExcludedNamespace(%q) = false, want true", ns)
		}
	}
	if cfg.IsExcludedNamespace("default") {
		t.Error(`IsExcludedNamespace("default") = true, want false`)
	}
}

func TestParseResourcesReplaceTheDefaults(t *testing.T) {
	// Setting only a memory limit must leave no default CPU limit behind.
	cfg, err := Parse([]byte("sidecar:\n  resources:\n    limits:\n      memory: 48Mi\n"), "v1")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("48Mi")}}
	if diff := cmp.Diff(want, cfg.Sidecar.Resources); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	cfg, err = Parse([]byte("sidecar:\n  port: 9200\n"), "v1")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if diff := cmp.Diff(Default("v1").Sidecar.Resources, cfg.Sidecar.Resources); diff != "" {
		t.Errorf("a file without resources changed them (-want +got):\n%s", diff)
	}
}
