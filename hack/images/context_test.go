package main

import (
	"bufio"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerBuildContext builds the Dockerfile's binaries from a copy of
// the repository filtered by .dockerignore, as `docker build` would send it:
// an ignore pattern that drops a file the build needs fails here, not in a
// release pipeline.
func TestDockerBuildContext(t *testing.T) {
	root := repoRoot(t)
	ignore := readDockerignore(t, filepath.Join(root, ".dockerignore"))
	ctxDir := t.TempDir()
	var size int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == root {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if ignored(ignore, filepath.ToSlash(rel)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }()
		info, err := f.Stat()
		size += info.Size()
		if err != nil {
			return err
		}
		return writeFile(filepath.Join(ctxDir, rel), f)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("build context: %.2f MB", float64(size)/1e6)
	if size > 10_000_000 {
		t.Errorf("the build context is %d bytes: .dockerignore lets large files through", size)
	}
	for _, want := range []string{"go.mod", "go.sum", "hack/images/rootfs/etc/passwd", "hack/images/rootfs/etc/group"} {
		if _, err := os.Stat(filepath.Join(ctxDir, want)); err != nil {
			t.Errorf("the build context lacks %s, which the Dockerfile copies", want)
		}
	}
	for _, unwanted := range []string{".git", "bin", "dist", "hack/images/images_test.go"} {
		if _, err := os.Stat(filepath.Join(ctxDir, unwanted)); err == nil {
			t.Errorf("the build context contains %s", unwanted)
		}
	}
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-o", t.TempDir()+"/", "./cmd/webhook", "./cmd/sidecar")
	cmd.Dir = ctxDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=readonly -buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("go build in the build context: %v\n%s", err, out)
	}
}

// readDockerignore compiles the patterns of a .dockerignore file (without
// `!` exceptions, which ours does not use).
func readDockerignore(t *testing.T, path string) []*regexp.Regexp {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []*regexp.Regexp
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			t.Fatalf(".dockerignore: exception %q is not supported by this test", line)
		}
		var re strings.Builder
		for rest := strings.Trim(line, "/"); rest != ""; {
			switch {
			case strings.HasPrefix(rest, "**/"):
				re.WriteString("(?:.*/)?")
				rest = rest[3:]
			case rest[0] == '*':
				re.WriteString("[^/]*")
				rest = rest[1:]
			case rest[0] == '?':
				re.WriteString("[^/]")
				rest = rest[1:]
			default:
				re.WriteString(regexp.QuoteMeta(rest[:1]))
				rest = rest[1:]
			}
		}
		out = append(out, regexp.MustCompile("^"+re.String()+"$"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// ignored reports whether a pattern matches the slash-separated path (a
// match of a directory covers everything below it, as in Docker).
func ignored(patterns []*regexp.Regexp, path string) bool {
	for _, re := range patterns {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}
