package release

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

// repoRoot is the repository this package is in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// releaseScript runs hack/release.sh with the step and environment given,
// and returns its output.
func releaseScript(t *testing.T, step string, env ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), filepath.Join(repoRoot(t), "hack", "release.sh"), step)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hack/release.sh %s: %v\n%s", step, err, out)
	}
	return string(out)
}

// TestBinariesAgreeOnTheVersion builds the binaries with one stamped
// version, as a release does, and checks that each prints it and that an
// injection records it and pulls the sidecar image of that version.
func TestBinariesAgreeOnTheVersion(t *testing.T) {
	const version = "v3.1.4-versions.test"
	dist := t.TempDir()
	host := runtime.GOOS + "/" + runtime.GOARCH
	releaseScript(t, "binaries", "VERSION="+version, "DIST="+dist, "PLATFORMS="+host,
		"BINARIES=webhook sidecar gopherscope diagnostics")
	bin := filepath.Join(dist, "bin", runtime.GOOS+"_"+runtime.GOARCH)

	got := map[string]string{}
	for name, args := range map[string][]string{
		"gopherscope version":   {"gopherscope", "version"},
		"webhook --version":     {"webhook", "--version"},
		"sidecar --version":     {"sidecar", "--version"},
		"diagnostics --version": {"diagnostics", "--version"},
	} {
		out, err := exec.CommandContext(t.Context(), filepath.Join(bin, args[0]), args[1:]...).Output()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = string(out)
	}
	want := map[string]string{
		"gopherscope version":   version + "\n",
		"webhook --version":     version + "\n",
		"sidecar --version":     version + "\n",
		"diagnostics --version": version + "\n",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("version outputs (-want +got):\n%s", diff)
	}

	t.Run("an injection records the version and pulls the sidecar of that version", func(t *testing.T) {
		pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: example.com/app:1\n"
		cmd := exec.CommandContext(t.Context(), filepath.Join(bin, "gopherscope"), "inject", "-f", "-")
		cmd.Stdin = strings.NewReader(pod)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gopherscope inject: %v\n%s", err, stderr.String())
		}
		var injected corev1.Pod
		if err := yaml.UnmarshalStrict(out, &injected); err != nil {
			t.Fatalf("decode the injected pod: %v\n%s", err, out)
		}
		status, err := injector.ParseStatus(injected.Annotations[config.AnnotationStatus])
		if err != nil {
			t.Fatalf("status annotation: %v\n%s", err, out)
		}
		if status.Version != version {
			t.Errorf("status annotation version = %q, want %q", status.Version, version)
		}
		var images []string
		for _, c := range append(injected.Spec.InitContainers, injected.Spec.Containers...) {
			if c.Name == status.Sidecar {
				images = append(images, c.Image)
			}
		}
		if want := []string{config.DefaultSidecarImage + ":" + version}; !cmp.Equal(want, images) {
			t.Errorf("sidecar %q images = %q, want %q", status.Sidecar, images, want)
		}
	})
}
