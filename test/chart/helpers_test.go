package chart_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/gopherscope/gopherscope/test/chart"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// The release every test renders.
const (
	release   = "gs"
	namespace = "gopherscope-system"
	fullname  = "gs-gopherscope"
)

// values builds a nested values map from dotted paths and values:
// values("tls.mode", "helm", "replicaCount", 1).
func values(pathsAndValues ...any) map[string]any {
	out := map[string]any{}
	for i := 0; i+1 < len(pathsAndValues); i += 2 {
		path := strings.Split(pathsAndValues[i].(string), ".")
		m := out
		for _, key := range path[:len(path)-1] {
			next, ok := m[key].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[key] = next
			}
			m = next
		}
		m[path[len(path)-1]] = pathsAndValues[i+1]
	}
	return out
}

func newRenderer(t *testing.T) *chart.Renderer {
	t.Helper()
	r, err := chart.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// renderRaw renders the chart and fails the test if helm does.
func renderRaw(t *testing.T, vals map[string]any) []byte {
	t.Helper()
	out, err := newRenderer(t).Template(t.Context(), release, namespace, vals)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// render renders and decodes the chart.
func render(t *testing.T, vals map[string]any) *chart.Manifest {
	t.Helper()
	m, err := chart.Decode(renderRaw(t, vals))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// get returns the named object of type T or fails the test.
func get[T client.Object](t *testing.T, m *chart.Manifest, name string) T {
	t.Helper()
	obj, err := chart.Get[T](m, name)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

// has reports whether the manifest holds an object of the kind and name ("Kind/name").
func has(m *chart.Manifest, kindAndName string) bool {
	for _, n := range m.Names() {
		if n == kindAndName {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }

// hasCertManager reports whether the manifest holds any cert-manager object.
func hasCertManager(m *chart.Manifest) bool {
	return len(chart.All[*cmv1.Issuer](m)) > 0 || len(chart.All[*cmv1.Certificate](m)) > 0
}

// secretVolume returns the name of the Secret the webhook pods mount as their TLS directory.
func secretVolume(d *appsv1.Deployment) string {
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "tls" && v.Secret != nil {
			return v.Secret.SecretName
		}
	}
	return ""
}

// appVersion returns the chart's appVersion from Chart.yaml.
func appVersion(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(newRenderer(t).ChartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		AppVersion string `json:"appVersion"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil || meta.AppVersion == "" {
		t.Fatalf("Chart.yaml appVersion %q: %v", meta.AppVersion, err)
	}
	return meta.AppVersion
}
