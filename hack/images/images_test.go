package main

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	testVersion  = "v9.8.7-images.test"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	testEpoch    = "1700000000" // 2023-11-14T22:13:20Z
)

var (
	testCreated   = time.Unix(1700000000, 0).UTC()
	testImages    = []string{"webhook", "diagnostics", "sidecar"}
	testPlatforms = []string{"linux/amd64", "linux/arm64"}
	// elfMachines are the ELF machines of testPlatforms' binaries.
	elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	// maxUncompressed bounds each image's files, in bytes. The diagnostics server links
	// k8s.io/apiserver (delegated authentication and authorization): about 40 MB, and 61 MB
	// when something reachable makes the linker keep every exported method (gRPC's
	// golang.org/x/net/trace without the grpcnotrace tag did): its bound catches that.
	maxUncompressed = map[string]int{"webhook": 60_000_000, "diagnostics": 48_000_000, "sidecar": 20_000_000}
)

// released is one `hack/release.sh images` run into a temporary dist directory, shared by
// the tests (the first linux/arm64 build of the webhook takes minutes).
var released struct {
	once          sync.Once
	dist, summary string
	err           error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if released.dist != "" {
		_ = os.RemoveAll(released.dist)
	}
	os.Exit(code)
}

// release returns the dist directory `make images`' script filled, and what it printed.
func release(t *testing.T) (dist, summary string) {
	t.Helper()
	released.once.Do(func() {
		if released.dist, released.err = os.MkdirTemp("", "gopherscope-images-test-"); released.err != nil {
			return
		}
		cmd := exec.Command(filepath.Join(repoRoot(t), "hack", "release.sh"), "images")
		cmd.Env = append(os.Environ(), "VERSION="+testVersion, "REVISION="+testRevision, "SOURCE_DATE_EPOCH="+testEpoch,
			"DIST="+released.dist, "PLATFORMS="+strings.Join(testPlatforms, " "), "IMAGES="+strings.Join(testImages, " "))
		out, err := cmd.CombinedOutput()
		released.summary = string(out)
		if err != nil {
			released.err = fmt.Errorf("hack/release.sh images: %w\n%s", err, out)
		}
	})
	if released.err != nil {
		t.Fatal(released.err)
	}
	return released.dist, released.summary
}

// TestImages opens the archives `make images` writes as a registry client and a container
// runtime would. What the Dockerfile says (files, user, entrypoint, labels) is checked by
// TestDockerfileMatchesImages.
func TestImages(t *testing.T) {
	dist, summary := release(t)
	outDir := filepath.Join(dist, "images")
	t.Run("the same binaries give byte-identical archives", func(t *testing.T) {
		again := t.TempDir()
		opts, err := parseOptions([]string{"--version", testVersion, "--revision", testRevision,
			"--images", strings.Join(testImages, ","), "--platforms", strings.Join(testPlatforms, ","),
			"--bin-dir", filepath.Join(dist, "bin"), "--out", again}, testEpoch)
		if err != nil {
			t.Fatal(err)
		}
		if err := run(opts, io.Discard); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(hashFiles(t, outDir), hashFiles(t, again)); diff != "" {
			t.Errorf("the second build differs (-first +second):\n%s", diff)
		}
	})
	t.Run("each image has an OCI archive and a docker archive per platform", func(t *testing.T) {
		want := map[string]bool{}
		for _, image := range testImages {
			want[image+"-"+testVersion+".tar"] = true
			for _, p := range testPlatforms {
				want[image+"-"+testVersion+"."+strings.ReplaceAll(p, "/", "-")+".docker.tar"] = true
			}
		}
		got := map[string]bool{}
		for file := range hashFiles(t, outDir) {
			got[file] = true
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("files written (-want +got):\n%s", diff)
		}
	})
	for _, image := range testImages {
		t.Run(image, func(t *testing.T) {
			ref := "ghcr.io/gopherscope/" + image + ":" + testVersion
			idx, desc := openOCIArchive(t, filepath.Join(outDir, image+"-"+testVersion+".tar"))
			wantRefs := map[string]string{"org.opencontainers.image.ref.name": testVersion, "io.containerd.image.name": ref}
			if diff := cmp.Diff(wantRefs, desc.Annotations); diff != "" {
				t.Errorf("index.json annotations (-want +got):\n%s", diff)
			}
			if want := image + " " + ref + " index " + desc.Digest.String(); !strings.Contains(summary, want) {
				t.Errorf("the summary lacks %q:\n%s", want, summary)
			}
			im, err := idx.IndexManifest()
			if err != nil {
				t.Fatal(err)
			}
			var platforms []string
			for _, m := range im.Manifests {
				platforms = append(platforms, m.Platform.String())
				img, err := idx.Image(m.Digest)
				if err != nil {
					t.Fatal(err)
				}
				t.Run(m.Platform.String(), func(t *testing.T) {
					checkImage(t, image, *m.Platform, img, im.Annotations)
					checkDockerArchive(t, outDir, ref, image, *m.Platform, img)
				})
			}
			if diff := cmp.Diff(testPlatforms, platforms); diff != "" {
				t.Errorf("index platforms (-want +got):\n%s", diff)
			}
		})
	}
}

// checkImage checks one platform's image: OCI media types, its platform and creation time,
// the same annotations as the index and labels, and the binary, which it runs when it can.
func checkImage(t *testing.T, image string, p v1.Platform, img v1.Image, indexAnnotations map[string]string) {
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
		t.Errorf("media types: manifest %s, config %s; want OCI", m.MediaType, m.Config.MediaType)
	}
	for _, l := range m.Layers {
		if l.MediaType != types.OCILayer {
			t.Errorf("layer media type %s, want %s", l.MediaType, types.OCILayer)
		}
	}
	if !cmp.Equal(indexAnnotations, m.Annotations) || !cmp.Equal(indexAnnotations, cf.Config.Labels) {
		t.Errorf("index annotations %v, manifest annotations %v and labels %v differ", indexAnnotations, m.Annotations, cf.Config.Labels)
	}
	if cf.OS != p.OS || cf.Architecture != p.Architecture || !cf.Created.Equal(testCreated) {
		t.Errorf("config is %s/%s created %s, want %s created %s", cf.OS, cf.Architecture, cf.Created, p.String(), testCreated)
	}
	if want := []string{buildkitPath}; !cmp.Equal(want, cf.Config.Env) {
		t.Errorf("Env = %q, want BuildKit's %q", cf.Config.Env, want)
	}
	files := imageFiles(t, img)
	size := 0
	for _, f := range files {
		size += len(f.data)
	}
	if size > maxUncompressed[image] {
		t.Errorf("the image's files are %d bytes, more than %d", size, maxUncompressed[image])
	}
	binary := files[image].data
	f, err := elf.NewFile(strings.NewReader(binary))
	if err != nil {
		t.Fatalf("/%s is not an ELF executable: %v", image, err)
	}
	if f.Machine != elfMachines[p.Architecture] {
		t.Errorf("/%s is built for %s, want %s", image, f.Machine, elfMachines[p.Architecture])
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			t.Errorf("/%s is dynamically linked: it cannot run in a scratch image", image)
		}
	}
	if p.OS != runtime.GOOS || p.Architecture != runtime.GOARCH {
		return
	}
	path := filepath.Join(t.TempDir(), image)
	if err := os.WriteFile(path, []byte(binary), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(t.Context(), path, "--version").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != testVersion {
		t.Errorf("/%s --version = %q (%v), want %s", image, out, err, testVersion)
	}
}

// checkDockerArchive checks that a platform's docker archive is img, tagged ref.
func checkDockerArchive(t *testing.T, outDir, ref, image string, p v1.Platform, img v1.Image) {
	path := filepath.Join(outDir, image+"-"+testVersion+"."+p.OS+"-"+p.Architecture+".docker.tar")
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 1 || !cmp.Equal(manifest[0].RepoTags, []string{ref}) {
		t.Errorf("%s manifest.json = %+v, want one image tagged %s", path, manifest, ref)
	}
	docker, err := tarball.ImageFromPath(path, &tag)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(contentDigests(t, img), contentDigests(t, docker)); diff != "" {
		t.Errorf("the docker archive differs from the OCI archive's image (-oci +docker):\n%s", diff)
	}
}

// contentDigests lists img's config digest and its layers' digests.
func contentDigests(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	out := []v1.Hash{m.Config.Digest}
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// openOCIArchive extracts an OCI layout tar and returns the index its index.json lists,
// which must be its only entry, and that entry.
func openOCIArchive(t *testing.T, path string) (v1.ImageIndex, v1.Descriptor) {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-xf", path, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("extract %s: %v\n%s", path, err, out)
	}
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].MediaType != types.OCIImageIndex {
		t.Fatalf("index.json lists %+v, want the multi-arch index only", m.Manifests)
	}
	idx, err := root.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return idx, m.Manifests[0]
}

// hashFiles maps each file name in dir to its SHA-256.
func hashFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		out[e.Name()] = hex.EncodeToString(sum[:])
	}
	return out
}

// repoRoot is the gopherscope repository this module is nested in.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}
