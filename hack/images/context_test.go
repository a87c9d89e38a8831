package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// TestDockerBuildContext builds the Dockerfile's binaries from a copy of the repository
// filtered by .dockerignore, with Docker's own matcher, as `docker build` would send it: an
// ignore pattern that drops a file the build needs fails here, not in a release pipeline.
func TestDockerBuildContext(t *testing.T) {
	root := repoRoot(t)
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	patterns, err := ignorefile.ReadAll(f)
	_ = f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	ctxDir := t.TempDir()
	var size int64
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if ignored, err := ignore.MatchesOrParentMatches(rel); err != nil || ignored {
			if d.IsDir() && err == nil {
				return filepath.SkipDir
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		size += int64(len(data))
		if err == nil {
			err = os.MkdirAll(filepath.Dir(filepath.Join(ctxDir, rel)), 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(ctxDir, rel), data, 0o644)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build context: %.2f MB", float64(size)/1e6)
	if size > 10_000_000 {
		t.Errorf("the build context is %d bytes: .dockerignore lets large files through", size)
	}
	for _, unwanted := range []string{".git", "bin", "dist", "hack/images/images_test.go"} {
		if _, err := os.Stat(filepath.Join(ctxDir, unwanted)); err == nil {
			t.Errorf("the build context contains %s", unwanted)
		}
	}
	// The Dockerfile's COPY sources of the base stage are checked by TestDockerfileMatchesImages
	// against the build context's files; here, the build stage's go build.
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-o", t.TempDir()+"/", "./cmd/webhook", "./cmd/diagnostics", "./cmd/sidecar")
	cmd.Dir = ctxDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly -buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go build in the build context: %v\n%s", err, out)
	}
}
