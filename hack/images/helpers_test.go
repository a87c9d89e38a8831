package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testVersion is stamped into the binaries the tests build.
const testVersion = "v9.8.7-images.test"

// testEpoch is the SOURCE_DATE_EPOCH of the test images: 2023-11-14T22:13:20Z.
const testEpoch = "1700000000"

// testPlatforms are the platforms the tests build for, as release.sh does.
var testPlatforms = []string{"linux/amd64", "linux/arm64"}

// released holds the binaries `hack/release.sh binaries` built for the
// tests, once per test run (the first linux/arm64 build of the webhook takes
// minutes; later ones come from the Go build cache).
var released struct {
	once sync.Once
	dist string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if released.dist != "" {
		if err := os.RemoveAll(released.dist); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
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

// releaseBinaries returns the bin directory (<os>_<arch>/<name>) of the
// webhook, sidecar and gopherscope binaries built by hack/release.sh with
// testVersion for testPlatforms.
func releaseBinaries(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	released.once.Do(func() {
		released.dist, released.err = os.MkdirTemp("", "gopherscope-images-test-")
		if released.err != nil {
			return
		}
		cmd := exec.Command(filepath.Join(root, "hack", "release.sh"), "binaries")
		cmd.Env = append(os.Environ(),
			"VERSION="+testVersion,
			"DIST="+released.dist,
			"PLATFORMS="+strings.Join(testPlatforms, " "),
			"BINARIES=webhook sidecar gopherscope")
		if out, err := cmd.CombinedOutput(); err != nil {
			released.err = fmt.Errorf("hack/release.sh binaries: %w\n%s", err, out)
		}
	})
	if released.err != nil {
		t.Fatal(released.err)
	}
	return filepath.Join(released.dist, "bin")
}

// testOptions are the options the tests build images with.
func testOptions(binDir, outDir string) *Options {
	opts := defaultOptions(testEpoch)
	opts.Version = testVersion
	opts.Revision = "0123456789abcdef0123456789abcdef01234567"
	opts.BinDir = binDir
	opts.OutDir = outDir
	opts.Platforms = append(commaList(nil), testPlatforms...)
	return opts
}

// untar extracts the tar file at path into dir, refusing any entry that is
// not a plain file or directory below dir.
func untar(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		if !filepath.IsLocal(hdr.Name) {
			t.Fatalf("%s: entry %q leaves the archive", path, hdr.Name)
		}
		target := filepath.Join(dir, hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(target, 0o755)
		case tar.TypeReg:
			err = writeFile(target, tr)
		default:
			t.Fatalf("%s: entry %q has unexpected type %q", path, hdr.Name, hdr.Typeflag)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// writeFile writes r to path, creating its directory.
func writeFile(path string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return errors.Join(err, f.Close())
}

// entry is one file of a layer, as a container runtime would unpack it.
type entry struct {
	Name     string
	Type     string
	Mode     int64
	UID, GID int
	Created  string
}

// readLayers lists the entries of each of img's layers and returns the
// content of every regular file by path.
func readLayers(t *testing.T, img v1.Image) ([][]entry, map[string][]byte) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var out [][]entry
	for i, l := range layers {
		if mt, err := l.MediaType(); err != nil || mt != types.OCILayer {
			t.Errorf("layer %d media type = %s (%v), want %s", i, mt, err, types.OCILayer)
		}
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		var entries []entry
		tr := tar.NewReader(rc)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read layer %d: %v", i, err)
			}
			e := entry{Name: hdr.Name, Type: string(hdr.Typeflag), Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid,
				Created: hdr.ModTime.UTC().Format("2006-01-02T15:04:05Z")}
			switch hdr.Typeflag {
			case tar.TypeDir:
				e.Type = "dir"
			case tar.TypeReg:
				e.Type = "file"
				data, err := io.ReadAll(tr)
				if err != nil {
					t.Fatal(err)
				}
				files[hdr.Name] = data
			}
			entries = append(entries, e)
		}
		if err := rc.Close(); err != nil {
			t.Fatal(err)
		}
		out = append(out, entries)
	}
	return out, files
}
