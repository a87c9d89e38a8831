package injector_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/gopherscope/gopherscope/injector"
)

func TestSidecarVersionIsTheImageTagAsAValidLabelValue(t *testing.T) {
	for _, tc := range []struct {
		name, image, want string
	}{
		{"a tagged image gives its tag", "ghcr.io/gopherscope/sidecar:v0.4.0", "v0.4.0"},
		{"a registry port is not a tag", "localhost:5000/sidecar", "latest"},
		{"a tag and a digest give the tag", "localhost:5000/sidecar:1.2@sha256:" + strings.Repeat("ab", 32), "1.2"},
		{"a digest alone gives its algorithm and 12 characters", "sidecar@sha256:" + strings.Repeat("0123456789", 7), "sha256-012345678901"},
		{"an untagged image is latest", "ghcr.io/gopherscope/sidecar", "latest"},
		{"a tag longer than 63 characters is cut", "sidecar:" + strings.Repeat("a", 100), strings.Repeat("a", 63)},
		{"a cut that ends on a dot is trimmed", "sidecar:" + strings.Repeat("a", 62) + ".b", strings.Repeat("a", 62)},
		{"a tag starting with an underscore is trimmed", "sidecar:_dev", "dev"},
		{"characters a label refuses become dashes", "sidecar:v1+build", "v1-build"},
		{"nothing usable is unknown", "sidecar:___", "unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := injector.SidecarVersion(tc.image)
			if got != tc.want {
				t.Errorf("SidecarVersion(%q) = %q, want %q", tc.image, got, tc.want)
			}
			if errs := validation.IsValidLabelValue(got); len(errs) > 0 {
				t.Errorf("SidecarVersion(%q) = %q is not a label value: %v", tc.image, got, errs)
			}
		})
	}
}

func FuzzSidecarVersion(f *testing.F) {
	for _, s := range []string{"ghcr.io/x/sidecar:v1", "x@sha256:abc", "", ":", "a:" + strings.Repeat("-", 70)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, image string) {
		if v := injector.SidecarVersion(image); len(validation.IsValidLabelValue(v)) > 0 || v == "" {
			t.Errorf("SidecarVersion(%q) = %q, not a non-empty label value", image, v)
		}
	})
}
