package chart_test

import (
	"strings"
	"testing"

	"github.com/gopherscope/gopherscope/test/chart"
)

// TestBadValuesFailWithAClearMessage: values.schema.json and the chart's own checks refuse
// bad input at render time, naming the value, so `helm install` never half-installs it.
func TestBadValuesFailWithAClearMessage(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{
			name:   "an unknown TLS mode is refused with the allowed ones",
			values: values("tls.mode", "vault"),
			want:   []string{"/tls/mode", "'cert-manager', 'helm', 'secret'"},
		},
		{
			name:   "an unknown failurePolicy is refused",
			values: values("webhook.failurePolicy", "Sometimes"),
			want:   []string{"/webhook/failurePolicy", "'Ignore', 'Fail'"},
		},
		{
			name:   "a timeout beyond the API server's 30s limit is refused",
			values: values("webhook.timeoutSeconds", 31),
			want:   []string{"/webhook/timeoutSeconds", "30"},
		},
		{
			name:   "an unknown nativeSidecar mode is refused",
			values: values("injection.nativeSidecar", "sometimes"),
			want:   []string{"/injection/nativeSidecar", "'auto', 'always', 'never'"},
		},
		{
			name:   "a GOMEMLIMIT share above 100 percent is refused",
			values: values("injection.tune.gomemlimit.percent", 120),
			want:   []string{"/injection/tune/gomemlimit/percent", "100"},
		},
		{
			name:   "a tuned namespace that is not a namespace name is refused",
			values: values("injection.tune.gomemlimit.namespaces", []string{"Team A"}),
			want:   []string{"/injection/tune/gomemlimit/namespaces/0"},
		},
		{
			name:   "a sidecar image without a repository is refused",
			values: values("injection.sidecar.image.repository", ""),
			want:   []string{"/injection/sidecar/image"},
		},
		{
			name:   "a sidecar image digest that is not one is refused",
			values: values("injection.sidecar.image.digest", "latest"),
			want:   []string{"/injection/sidecar/image"},
		},
		{
			name:   "an unknown sidecar pull policy is refused",
			values: values("injection.sidecar.imagePullPolicy", "Maybe"),
			want:   []string{"/injection/sidecar/imagePullPolicy"},
		},
		{
			name:   "a misspelt value is refused rather than ignored",
			values: values("replicas", 3),
			want:   []string{"additional properties 'replicas' not allowed"},
		},
		{
			name:   "a misspelt nested value is refused rather than ignored",
			values: values("injection.sidecar.imagePullpolicy", "Always"),
			want:   []string{"/injection/sidecar", "'imagePullpolicy' not allowed"},
		},
		{
			name:   "a plain-HTTP webhook URL is refused",
			values: values("webhook.url", "http://127.0.0.1:9443/inject", "tls.ipAddresses", []string{"127.0.0.1"}),
			want:   []string{"/webhook/url", "does not match pattern"},
		},
		{
			name:   "an interval that is not a whole number of seconds, minutes or hours is refused",
			values: values("injection.interval", "500ms"),
			want:   []string{"/injection/interval"},
		},
		{
			name:   "a port out of range is refused",
			values: values("injection.sidecar.port", 70000),
			want:   []string{"/injection/sidecar/port"},
		},
		{
			name:   "an IP address that is not one is refused",
			values: values("tls.ipAddresses", []string{"localhost"}),
			want:   []string{"/tls/ipAddresses/0", "not valid ipv4"},
		},
		{
			name:   "a webhook URL whose host the certificate would not name is refused",
			values: values("tls.mode", "helm", "webhook.url", "https://127.0.0.1:9443/inject"),
			want:   []string{`webhook.url host "127.0.0.1" must be listed in tls.ipAddresses or tls.dnsNames`},
		},
		{
			name:   "secret mode without a Secret is refused",
			values: values("tls.mode", "secret"),
			want:   []string{"tls.mode=secret needs tls.secret.name", "tls.secret.caBundle"},
		},
		{
			name:   "a budget that could never be met is refused",
			values: values("replicaCount", 2, "podDisruptionBudget.minAvailable", 2),
			want:   []string{"podDisruptionBudget.minAvailable (2) must be less than replicaCount (2)"},
		},
		{
			name:   "rollout restarts without the auditor are refused",
			values: values("auditor.enabled", false, "auditor.rolloutRestart", true),
			want:   []string{"auditor.rolloutRestart needs auditor.enabled"},
		},
		{
			name:   "an auditor period under a second is refused",
			values: values("auditor.period", "500ms"),
			want:   []string{"/auditor/period"},
		},
	}
	r := newRenderer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := r.Template(t.Context(), release, namespace, tc.values)
			if err == nil {
				t.Fatalf("helm template succeeded, want an error; rendered %d bytes", len(out))
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestKubeVersionFloor(t *testing.T) {
	r := *newRenderer(t)
	for _, tc := range []struct {
		version string
		wantErr bool
	}{
		{version: "1.27.16", wantErr: true},
		{version: "1.28.0", wantErr: false},
		{version: "1.37.2", wantErr: false},
	} {
		t.Run(tc.version, func(t *testing.T) {
			r.KubeVersion = tc.version
			_, err := r.Template(t.Context(), release, namespace, nil)
			switch {
			case tc.wantErr && (err == nil || !strings.Contains(err.Error(), "kubeVersion: >=1.28.0-0")):
				t.Errorf("Kubernetes %s: error = %v, want the kubeVersion constraint", tc.version, err)
			case !tc.wantErr && err != nil:
				t.Errorf("Kubernetes %s: error = %v", tc.version, err)
			}
		})
	}
}

// TestCertManagerModeNeedsCertManager: tls.mode=cert-manager on a cluster without
// cert-manager's API fails with a message naming the alternatives, instead of Helm's raw
// "no matches for kind Certificate" halfway through an install; a GitOps pipeline that
// renders without a cluster skips the check with a value.
func TestCertManagerModeNeedsCertManager(t *testing.T) {
	withoutCertManager := *newRenderer(t)
	withoutCertManager.APIVersions = nil
	t.Run("a cluster without cert-manager is refused with the alternatives named", func(t *testing.T) {
		_, err := withoutCertManager.Template(t.Context(), release, namespace, values("tls.mode", "cert-manager"))
		if err == nil {
			t.Fatal("helm template succeeded, want an error")
		}
		for _, want := range []string{"tls.mode=cert-manager needs cert-manager", "tls.mode=self", "tls.mode=secret", "tls.certManager.skipCapabilityCheck=true"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
	})
	t.Run("skipCapabilityCheck renders the Certificates without cert-manager's API", func(t *testing.T) {
		out, err := withoutCertManager.Template(t.Context(), release, namespace, values("tls.mode", "cert-manager", "tls.certManager.skipCapabilityCheck", true))
		if err != nil {
			t.Fatal(err)
		}
		m, err := chart.Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		if !has(m, "Certificate/"+fullname+"-serving") {
			t.Errorf("no serving Certificate rendered: %v", m.Names())
		}
	})
	t.Run("a cluster that serves cert-manager.io/v1 passes the check", func(t *testing.T) {
		if !hasCertManager(render(t, values("tls.mode", "cert-manager"))) {
			t.Error("no cert-manager objects rendered")
		}
	})
	t.Run("the other modes need no cert-manager", func(t *testing.T) {
		if _, err := withoutCertManager.Template(t.Context(), release, namespace, nil); err != nil {
			t.Errorf("the default mode (self) without cert-manager: %v", err)
		}
	})
}
