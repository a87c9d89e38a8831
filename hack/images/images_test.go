package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// imageCase is what one built image must be.
type imageCase struct {
	name        string
	description string
	// maxUncompressed bounds the layers' total uncompressed size in bytes.
	maxUncompressed int64
}

var imageCases = []imageCase{
	{
		name:        "webhook",
		description: "gopherscope admission webhook: injects the Go runtime metrics sidecar into opted-in pods",
		// Measured 32.6 MB (linux/amd64) with controller-runtime and client-go linked in.
		maxUncompressed: 60_000_000,
	},
	{
		name:        "sidecar",
		description: "gopherscope sidecar: reads a Go app's expvar and pprof endpoints and serves its Go runtime metrics",
		// The budget.
		maxUncompressed: 20_000_000,
	},
}

// TestImages builds both images twice from freshly built release binaries
// and opens the archives as a registry client would.
func TestImages(t *testing.T) {
	binDir := releaseBinaries(t)
	first, second := t.TempDir(), t.TempDir()
	var summary bytes.Buffer
	if err := run(t.Context(), testOptions(binDir, first), &summary); err != nil {
		t.Fatalf("first build: %v", err)
	}
	if err := run(t.Context(), testOptions(binDir, second), io.Discard); err != nil {
		t.Fatalf("second build: %v", err)
	}
	t.Logf("built:\n%s", summary.String())

	t.Run("the same binaries give byte-identical archives", func(t *testing.T) {
		if diff := cmp.Diff(hashTree(t, first), hashTree(t, second)); diff != "" {
			t.Errorf("second build differs from the first (-first +second):\n%s", diff)
		}
	})
	t.Run("only the archives of each image and platform are written", func(t *testing.T) {
		want := map[string]bool{}
		for _, c := range imageCases {
			want[c.name+"-"+testVersion+".tar"] = true
			for _, p := range testPlatforms {
				want[c.name+"-"+testVersion+"."+strings.ReplaceAll(p, "/", "-")+".docker.tar"] = true
			}
		}
		got := map[string]bool{}
		for file := range hashTree(t, first) {
			got[file] = true
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("files in the output directory (-want +got):\n%s", diff)
		}
	})
	for _, c := range imageCases {
		t.Run(c.name, func(t *testing.T) { checkImage(t, first, c, summary.String()) })
	}
}

// checkImage checks c's OCI archive, each platform's image in it, and each
// platform's docker archive.
func checkImage(t *testing.T, outDir string, c imageCase, summary string) {
	ref := "ghcr.io/gopherscope/" + c.name + ":" + testVersion
	wantAnnotations := map[string]string{
		"org.opencontainers.image.title":       "gopherscope-" + c.name,
		"org.opencontainers.image.description": c.description,
		"org.opencontainers.image.version":     testVersion,
		"org.opencontainers.image.revision":    "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.source":      "https://github.com/gopherscope/gopherscope",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     "2023-11-14T22:13:20Z",
	}

	dir := t.TempDir()
	untar(t, filepath.Join(outDir, c.name+"-"+testVersion+".tar"), dir)
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("open OCI layout: %v", err)
	}
	root, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	rootManifest, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(rootManifest.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1 (the multi-arch index)", len(rootManifest.Manifests))
	}
	desc := rootManifest.Manifests[0]
	wantRefAnnotations := map[string]string{"org.opencontainers.image.ref.name": testVersion, "io.containerd.image.name": ref}
	if diff := cmp.Diff(wantRefAnnotations, desc.Annotations); diff != "" {
		t.Errorf("index.json annotations (-want +got):\n%s", diff)
	}
	if desc.MediaType != types.OCIImageIndex {
		t.Errorf("index.json entry media type = %s, want %s", desc.MediaType, types.OCIImageIndex)
	}
	if want := c.name + " " + ref + " index " + desc.Digest.String(); !strings.Contains(summary, want) {
		t.Errorf("summary lacks %q:\n%s", want, summary)
	}

	idx, err := root.ImageIndex(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantAnnotations, im.Annotations); diff != "" {
		t.Errorf("index annotations (-want +got):\n%s", diff)
	}
	var platforms []string
	for _, m := range im.Manifests {
		if m.Platform == nil {
			t.Fatalf("index entry %s has no platform", m.Digest)
		}
		platforms = append(platforms, m.Platform.String())
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(m.Platform.String(), func(t *testing.T) {
			checkPlatformImage(t, img, c, *m.Platform, wantAnnotations)
			checkDockerArchive(t, outDir, ref, img, c, *m.Platform)
		})
	}
	if diff := cmp.Diff(testPlatforms, platforms); diff != "" {
		t.Errorf("index platforms (-want +got):\n%s", diff)
	}
}

// imageConfig is the part of an image config a container runtime acts on.
type imageConfig struct {
	OS, Architecture string
	Created          string
	Entrypoint, Cmd  []string
	User, WorkingDir string
	Env              []string
	Labels           map[string]string
	History          int
}

// checkPlatformImage checks one platform's manifest, config and layers,
// and runs the binary when the platform is this machine's.
func checkPlatformImage(t *testing.T, img v1.Image, c imageCase, p v1.Platform, wantAnnotations map[string]string) {
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types: manifest %s, config %s; want OCI", m.MediaType, m.Config.MediaType)
	}
	if diff := cmp.Diff(wantAnnotations, m.Annotations); diff != "" {
		t.Errorf("manifest annotations (-want +got):\n%s", diff)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	got := imageConfig{
		OS: cf.OS, Architecture: cf.Architecture, Created: cf.Created.UTC().Format("2006-01-02T15:04:05Z"),
		Entrypoint: cf.Config.Entrypoint, Cmd: cf.Config.Cmd, User: cf.Config.User,
		WorkingDir: cf.Config.WorkingDir, Env: cf.Config.Env, Labels: cf.Config.Labels, History: len(cf.History),
	}
	want := imageConfig{
		OS: p.OS, Architecture: p.Architecture, Created: "2023-11-14T22:13:20Z",
		Entrypoint: []string{"/" + c.name}, User: "65532:65532", WorkingDir: "/",
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Labels: wantAnnotations, History: 2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("image config (-want +got):\n%s", diff)
	}

	layers, files := readLayers(t, img)
	wantLayers := [][]entry{
		{
			{Name: "etc/", Type: "dir", Mode: 0o755, Created: "2023-11-14T22:13:20Z"},
			{Name: "etc/group", Type: "file", Mode: 0o644, Created: "2023-11-14T22:13:20Z"},
			{Name: "etc/passwd", Type: "file", Mode: 0o644, Created: "2023-11-14T22:13:20Z"},
		},
		{{Name: c.name, Type: "file", Mode: 0o755, Created: "2023-11-14T22:13:20Z"}},
	}
	if diff := cmp.Diff(wantLayers, layers); diff != "" {
		t.Errorf("layers and their files (-want +got):\n%s", diff)
	}
	for _, layer := range layers {
		for _, e := range layer {
			if base := filepath.Base(strings.TrimSuffix(e.Name, "/")); isShell(base) {
				t.Errorf("the image contains a shell: %s", e.Name)
			}
		}
	}
	if !strings.Contains(string(files["etc/passwd"]), "\nnonroot:x:65532:65532:") ||
		!strings.Contains(string(files["etc/group"]), "\nnonroot:x:65532:\n") {
		t.Errorf("/etc/passwd and /etc/group do not name nonroot 65532:\n%s%s", files["etc/passwd"], files["etc/group"])
	}
	size, err := measure(img)
	if err != nil {
		t.Fatal(err)
	}
	var uncompressed int64
	for _, data := range files {
		uncompressed += int64(len(data))
	}
	if uncompressed > c.maxUncompressed || size.Uncompressed > c.maxUncompressed {
		t.Errorf("image is %d bytes uncompressed (files %d), more than %d", size.Uncompressed, uncompressed, c.maxUncompressed)
	}
	t.Logf("%s %s: manifest %s, %d layers, %.2f MB compressed, %.2f MB uncompressed",
		c.name, p.String(), size.Digest, size.Layers, float64(size.Compressed)/1e6, float64(size.Uncompressed)/1e6)

	binary := files[c.name]
	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		t.Fatalf("/%s is not an ELF binary: %v", c.name, err)
	}
	if want := elfMachines[p.Architecture]; f.Machine != want {
		t.Errorf("/%s is built for %s, want %s", c.name, f.Machine, want)
	}
	if p.OS == runtime.GOOS && p.Architecture == runtime.GOARCH {
		checkVersion(t, c.name, binary)
	}
}

// checkVersion runs the binary extracted from an image with --version.
func checkVersion(t *testing.T, name string, binary []byte) {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, binary, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("/%s --version: %v\n%s", name, err, out)
	}
	if got := strings.TrimSpace(string(out)); got != testVersion {
		t.Errorf("/%s --version printed %q, want %q", name, got, testVersion)
	}
}

// checkDockerArchive checks that one platform's docker archive holds the
// same config and layers as the OCI archive's image, tagged with ref.
func checkDockerArchive(t *testing.T, outDir, ref string, img v1.Image, c imageCase, p v1.Platform) {
	path := filepath.Join(outDir, c.name+"-"+testVersion+"."+p.OS+"-"+p.Architecture+".docker.tar")
	manifest, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		t.Fatalf("read manifest.json of %s: %v", path, err)
	}
	if len(manifest) != 1 || !cmp.Equal(manifest[0].RepoTags, []string{ref}) {
		t.Errorf("%s manifest.json = %+v, want one image tagged %s", path, manifest, ref)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	docker, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if diff := cmp.Diff(digests(t, img), digests(t, docker)); diff != "" {
		t.Errorf("docker archive differs from the OCI image (-oci +docker):\n%s", diff)
	}
}

// digests lists img's config digest and its layers' digests.
func digests(t *testing.T, img v1.Image) []string {
	t.Helper()
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"config " + cfg.String()}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "layer "+d.String())
	}
	return out
}

// isShell reports whether a file name is a shell or a multi-call binary
// that provides one.
func isShell(base string) bool {
	switch base {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "busybox", "toybox":
		return true
	}
	return false
}

// hashTree maps every file under dir (by relative path) to its SHA-256.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		sum := sha256.Sum256(data)
		out[rel] = hex.EncodeToString(sum[:])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
