package chart_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/config"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestConfigMapParsesIntoTheValues(t *testing.T) {
	chartAppVersion := appVersion(t)
	tests := []struct {
		name   string
		values map[string]any
		want   func(c *config.Config)
	}{
		{
			name:   "default values give the built-in defaults, the appVersion image and the release namespace excluded",
			values: nil,
			want:   func(*config.Config) {},
		},
		{
			name: "every injection value reaches the config",
			values: values(
				"injection.sidecar.image.repository", "registry.example.com/sidecar",
				"injection.sidecar.image.tag", "v9",
				"injection.sidecar.imagePullPolicy", "Always",
				"injection.sidecar.port", 9999,
				"injection.sidecar.resources", map[string]any{
					"requests": map[string]any{"cpu": "20m", "memory": "32Mi"},
					"limits":   map[string]any{"memory": "128Mi"},
				},
				"injection.sidecar.history", "2h",
				"injection.target.ports", []int{8080, 6060},
				"injection.target.expvarPath", "/vars",
				"injection.target.pprofPath", "/pprof",
				"injection.target.metricsPath", "/metrics",
				"injection.interval", "30s",
				"injection.nativeSidecar", "never",
				"injection.strict", true,
				"injection.allowHostNetwork", true,
				"injection.excludedNamespaces", []string{"legacy"},
				"injection.tune.gomemlimit.namespaces", []string{"shop", "*"},
				"injection.tune.gomemlimit.percent", 80,
			),
			want: func(c *config.Config) {
				c.Sidecar.Image = "registry.example.com/sidecar:v9"
				c.Sidecar.ImagePullPolicy = corev1.PullAlways
				c.Sidecar.Port = 9999
				c.Sidecar.Resources = corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("20m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
					// Helm merges maps: the default CPU limit stays unless set to null.
					Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				}
				c.Sidecar.History = metav1.Duration{Duration: 2 * time.Hour}
				c.Target = config.Target{Ports: []int32{8080, 6060}, ExpvarPath: "/vars", PprofPath: "/pprof", MetricsPath: "/metrics"}
				c.Interval = metav1.Duration{Duration: 30 * time.Second}
				c.NativeSidecar = config.NativeSidecarNever
				c.Strict = true
				c.AllowHostNetwork = true
				c.ExcludedNamespaces = append(c.ExcludedNamespaces, "legacy")
				c.Tune.GOMEMLIMIT = config.GOMEMLIMITTuning{Namespaces: []string{"shop", "*"}, Percent: 80}
			},
		},
		{
			name:   "a sidecar image repository alone gets the appVersion tag",
			values: values("injection.sidecar.image.repository", "registry.example.com/platform/sidecar"),
			want: func(c *config.Config) {
				c.Sidecar.Image = "registry.example.com/platform/sidecar:" + chartAppVersion
			},
		},
		{
			name: "a sidecar image digest wins over the tag",
			values: values("injection.sidecar.image.repository", "registry.example.com/sidecar",
				"injection.sidecar.image.tag", "v9", "injection.sidecar.image.digest", "sha256:"+strings.Repeat("ab", 32)),
			want: func(c *config.Config) {
				c.Sidecar.Image = "registry.example.com/sidecar@sha256:" + strings.Repeat("ab", 32)
			},
		},
		{
			name:   "a whole sidecar image reference as a string, the former form of the value, is used as it is",
			values: values("injection.sidecar.image", "registry.example.com/sidecar:v8"),
			want: func(c *config.Config) {
				c.Sidecar.Image = "registry.example.com/sidecar:v8"
			},
		},
		{
			name:   "the diagnostics sidecar port follows diagnostics.sidecarPort",
			values: values("diagnostics.sidecarPort", 9500),
			want:   func(c *config.Config) { c.Sidecar.DiagnosticsPort = 9500 },
		},
		{
			name:   "without the diagnostics server the sidecar gets no diagnostics port",
			values: values("diagnostics.enabled", false),
			want:   func(c *config.Config) { c.Sidecar.DiagnosticsPort = 0 },
		},
		{
			name:   "a default limit set to null is dropped, not inherited from the defaults",
			values: values("injection.sidecar.resources.limits.cpu", nil),
			want: func(c *config.Config) {
				delete(c.Sidecar.Resources.Limits, corev1.ResourceCPU)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm := get[*corev1.ConfigMap](t, render(t, tc.values), fullname+"-config")
			data, ok := cm.Data["config.yaml"]
			if !ok || len(cm.Data) != 1 {
				t.Fatalf("ConfigMap data keys %v, want exactly config.yaml", keys(cm.Data))
			}
			got, err := config.Parse([]byte(data), "unused")
			if err != nil {
				t.Fatalf("config.Parse(the chart's config.yaml) error = %v\n%s", err, data)
			}
			want := config.Default(appVersion(t))
			want.ExcludedNamespaces = append(want.ExcludedNamespaces, namespace)
			want.Sidecar.DiagnosticsPort = 9443 // diagnostics.enabled is the default
			tc.want(want)
			quantities := cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })
			if diff := cmp.Diff(want, got, quantities); diff != "" {
				t.Errorf("parsed config (-want +got):\n%s\nconfig.yaml:\n%s", diff, data)
			}
		})
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
