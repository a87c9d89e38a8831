package release

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

// TestReleaseDryRun runs the whole dry-run release into a temporary dist/
// and checks what it leaves there: exactly the binaries, images and chart
// of the version, with checksums that verify.
func TestReleaseDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds eight binaries and six images")
	}
	helm := filepath.Join(repoRoot(t), "bin", "helm")
	if _, err := os.Stat(helm); err != nil {
		t.Skipf("needs bin/helm (make tools): %v", err)
	}
	const version = "v1.2.3-rc.1"
	dist := t.TempDir()
	out := releaseScript(t, "all", "VERSION="+version, "DIST="+dist, "HELM="+helm,
		"SOURCE_DATE_EPOCH=1700000000", "REVISION=0123456789abcdef0123456789abcdef01234567")
	t.Logf("hack/release.sh all:\n%s", out)

	var want []string
	for _, platform := range []string{"linux_amd64", "linux_arm64"} {
		for _, b := range []string{"diagnostics", "gopherscope", "sidecar", "webhook"} {
			want = append(want, "bin/"+platform+"/"+b)
		}
	}
	want = append(want, "gopherscope-1.2.3-rc.1.tgz")
	for _, img := range []string{"diagnostics", "sidecar", "webhook"} {
		want = append(want, "images/"+img+"-"+version+".linux-amd64.docker.tar",
			"images/"+img+"-"+version+".linux-arm64.docker.tar", "images/"+img+"-"+version+".tar")
	}
	sums := hashTree(t, dist)
	delete(sums, "SHA256SUMS")
	var got []string
	for file := range sums {
		got = append(got, file)
	}
	if diff := cmp.Diff(want, got, cmpSorted); diff != "" {
		t.Errorf("files in dist/ (-want +got):\n%s", diff)
	}

	t.Run("SHA256SUMS lists every file with its real checksum", func(t *testing.T) {
		if diff := cmp.Diff(sums, readSums(t, filepath.Join(dist, "SHA256SUMS"))); diff != "" {
			t.Errorf("SHA256SUMS (-computed +listed):\n%s", diff)
		}
	})

	t.Run("the chart's versions and images follow the release version", func(t *testing.T) {
		var chart struct {
			Version     string            `json:"version"`
			AppVersion  string            `json:"appVersion"`
			Annotations map[string]string `json:"annotations"`
		}
		if err := yaml.Unmarshal(chartFile(t, filepath.Join(dist, "gopherscope-1.2.3-rc.1.tgz")), &chart); err != nil {
			t.Fatal(err)
		}
		var images []struct{ Name, Image string }
		if err := yaml.Unmarshal([]byte(chart.Annotations["artifacthub.io/images"]), &images); err != nil {
			t.Fatal(err)
		}
		got := map[string]any{"version": chart.Version, "appVersion": chart.AppVersion, "images": images}
		want := map[string]any{"version": "1.2.3-rc.1", "appVersion": version, "images": []struct{ Name, Image string }{
			{Name: "webhook", Image: "ghcr.io/gopherscope/webhook:" + version},
			{Name: "diagnostics", Image: "ghcr.io/gopherscope/diagnostics:" + version},
			{Name: "sidecar", Image: "ghcr.io/gopherscope/sidecar:" + version},
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("packaged Chart.yaml (-want +got):\n%s", diff)
		}
	})
}

// cmpSorted compares string slices as sets.
var cmpSorted = cmp.Transformer("sorted", func(in []string) map[string]bool {
	out := map[string]bool{}
	for _, s := range in {
		out[s] = true
	}
	return out
})

// hashTree maps every file under dir (by slash-separated relative path) to
// its SHA-256 in hex.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		if err = errors.Join(err, f.Close()); err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = hex.EncodeToString(h.Sum(nil))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readSums reads a sha256sum(1) file into path -> checksum.
func readSums(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("%s: malformed line %q", path, sc.Text())
		}
		if _, dup := out[file]; dup {
			t.Errorf("%s lists %s twice", path, file)
		}
		out[file] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// chartFile returns gopherscope/Chart.yaml from a packaged chart.
func chartFile(t *testing.T, tgz string) []byte {
	t.Helper()
	f, err := os.Open(tgz)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("no gopherscope/Chart.yaml in %s: %v", tgz, err)
		}
		if hdr.Name == "gopherscope/Chart.yaml" {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}
