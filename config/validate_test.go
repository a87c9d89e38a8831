package config

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestValidateCatchesEachBadField(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"another apiVersion", func(c *Config) { c.APIVersion = "v2" }, `apiVersion: "v2" is not supported`},
		{"another kind", func(c *Config) { c.Kind = "Pod" }, `kind: "Pod" is not supported`},
		{"an empty image", func(c *Config) { c.Sidecar.Image = " " }, "sidecar.image: must not be empty"},
		{"an unknown pull policy", func(c *Config) { c.Sidecar.ImagePullPolicy = "Sometimes" }, `sidecar.imagePullPolicy: "Sometimes"`},
		{"port zero", func(c *Config) { c.Sidecar.Port = 0 }, "sidecar.port: 0 is not a port"},
		{"a port above 65535", func(c *Config) { c.Sidecar.Port = 70000 }, "sidecar.port: 70000 is not a port"},
		{"a negative diagnostics port", func(c *Config) { c.Sidecar.DiagnosticsPort = -1 }, "sidecar.diagnosticsPort: -1 is not a port (1-65535, or 0 for no diagnostics port)"},
		{"a diagnostics port above 65535", func(c *Config) { c.Sidecar.DiagnosticsPort = 65536 }, "sidecar.diagnosticsPort: 65536 is not a port"},
		{"the diagnostics port on the metrics port", func(c *Config) { c.Sidecar.DiagnosticsPort = c.Sidecar.Port },
			"sidecar.diagnosticsPort: 9184 is also sidecar.port, the metrics port; choose another port"},
		{"the diagnostics port on an app debug port", func(c *Config) {
			c.Target.Ports = []int32{8080, 6060}
			c.Sidecar.DiagnosticsPort = 6060
		}, "sidecar.diagnosticsPort: 6060 is also target.ports[1], the app's debug port; choose another port"},
		{"a request above its limit", func(c *Config) {
			c.Sidecar.Resources.Requests[corev1.ResourceMemory] = resource.MustParse("1Gi")
		}, "sidecar.resources: memory request 1Gi exceeds its limit 64Mi"},
		{"a history shorter than the interval", func(c *Config) { c.Sidecar.History.Duration = 5 * time.Second }, "sidecar.history: 5s is shorter than the interval 10s"},
		{"no target port", func(c *Config) { c.Target.Ports = nil }, "target.ports: at least one port is needed"},
		{"a bad target port", func(c *Config) { c.Target.Ports = []int32{6060, -1} }, "target.ports[1]: -1 is not a port"},
		{"a relative expvar path", func(c *Config) { c.Target.ExpvarPath = "vars" }, `target.expvarPath: "vars" must start with /`},
		{"a pprof path with a query", func(c *Config) { c.Target.PprofPath = "/p?x" }, `target.pprofPath: "/p?x" must not contain a query or fragment`},
		{"a metrics path with ..", func(c *Config) { c.Target.MetricsPath = "/a/../b" }, `target.metricsPath: "/a/../b" must not contain ..`},
		{"an interval below the minimum", func(c *Config) { c.Interval.Duration = time.Millisecond }, "interval: 1ms is shorter than the minimum 1s"},
		{"an interval above the maximum", func(c *Config) {
			c.Interval.Duration = 2 * time.Hour
			c.Sidecar.History.Duration = 4 * time.Hour
		}, "interval: 2h0m0s is longer than the maximum 1h0m0s"},
		{"an unknown native sidecar mode", func(c *Config) { c.NativeSidecar = "sometimes" }, `nativeSidecar: "sometimes" is not one of`},
		{"an empty excluded namespace", func(c *Config) { c.ExcludedNamespaces = []string{"a", ""} }, "excludedNamespaces[1]: must not be empty"},
		{"a GOMEMLIMIT share of zero", func(c *Config) { c.Tune.GOMEMLIMIT.Percent = 0 }, "tune.gomemlimit.percent: 0 is not between 1 and 100"},
		{"a GOMEMLIMIT share above the limit", func(c *Config) { c.Tune.GOMEMLIMIT.Percent = 101 }, "tune.gomemlimit.percent: 101 is not between 1 and 100"},
		{"an empty tuned namespace", func(c *Config) { c.Tune.GOMEMLIMIT.Namespaces = []string{" "} }, "tune.gomemlimit.namespaces[0]: must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Default("v1")
			tt.edit(cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateAcceptsADiagnosticsPortOrNone(t *testing.T) {
	for _, port := range []int32{0, 1, 9185, 65535} {
		cfg := Default("v1")
		cfg.Sidecar.DiagnosticsPort = port
		if err := cfg.Validate(); err != nil {
			t.Errorf("diagnosticsPort %d: Validate() = %v, want nil", port, err)
		}
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	cfg := Default("v1")
	cfg.Sidecar.Port = 0
	cfg.Target.ExpvarPath = ""
	cfg.NativeSidecar = "x"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate() accepted three bad fields")
	}
	for _, field := range []string{"sidecar.port", "target.expvarPath", "nativeSidecar"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("Validate() = %v, does not mention %s", err, field)
		}
	}
}

func TestPathProblem(t *testing.T) {
	tests := []struct {
		name, path, want string
	}{
		{"the expvar default is valid", "/debug/vars", ""},
		{"the root is valid", "/", ""},
		{"empty", "", "must not be empty"},
		{"relative", "debug", "must start with /"},
		{"over-long, said without echoing it", "/" + strings.Repeat("a", 300), "is longer than 256 bytes"},
		{"with a query", "/a?b", "must not contain a query or fragment"},
		{"with a fragment", "/a#b", "must not contain a query or fragment"},
		{"with ..", "/a/../b", "must not contain .."},
		{"with a space", "/a b", "must be printable ASCII without spaces"},
		{"with a control character", "/a\x7f", "must be printable ASCII without spaces"},
		{"with non-ASCII", "/dé", "must be printable ASCII without spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PathProblem(tt.path); got != tt.want {
				t.Errorf("PathProblem(%q) = %q, want %q", tt.path, got, tt.want)
			}
			err := ValidatePath(tt.path)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("ValidatePath(%q) = %v, want an error containing %q", tt.path, err, tt.want)
			}
			if err != nil && len(err.Error()) > 300 {
				t.Errorf("ValidatePath error is %d bytes long", len(err.Error()))
			}
		})
	}
}
