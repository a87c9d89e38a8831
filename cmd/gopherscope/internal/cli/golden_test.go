package cli

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/inject from the current output")

// goldenRoot holds one directory per case: a file args (the command line,
// one argument per line, paths relative to the case's directory), the
// inputs, an optional stdin, an optional exit-code (default 0), and the
// golden stdout.golden and stderr.golden.
const goldenRoot = "testdata/inject"

// TestGolden runs every case of testdata/inject in its directory and
// compares stdout and stderr with the golden files; a successful output
// injected again (from stdin) must come back unchanged, and a golden file
// outside any case fails the test.
func TestGolden(t *testing.T) {
	root, err := filepath.Abs(goldenRoot)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		used[filepath.Join(dir, "stdout.golden")] = true
		used[filepath.Join(dir, "stderr.golden")] = true
		t.Run(e.Name(), func(t *testing.T) { runGoldenCase(t, dir) })
	}
	t.Run("no golden file is stale", func(t *testing.T) {
		err := filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(path, ".golden") && !used[path] {
				t.Errorf("%s belongs to no case (a case is a directory of %s with an args file): remove it", path, goldenRoot)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// runGoldenCase runs one case from its directory.
func runGoldenCase(t *testing.T, dir string) {
	args := strings.Fields(readCaseFile(t, dir, "args", ""))
	if len(args) == 0 {
		t.Fatalf("%s: no args file (a case needs one)", dir)
	}
	stdin := readCaseFile(t, dir, "stdin", "")
	wantCode, err := strconv.Atoi(strings.TrimSpace(readCaseFile(t, dir, "exit-code", "0")))
	if err != nil {
		t.Fatalf("exit-code: %v", err)
	}
	t.Chdir(dir)
	code, stdout, stderr := run(t, stdin, args...)
	if code != wantCode {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, wantCode, stderr)
	}
	compareGolden(t, filepath.Join(dir, "stdout.golden"), stdout)
	compareGolden(t, filepath.Join(dir, "stderr.golden"), stderr)
	if code != 0 {
		return
	}
	t.Run("injecting the output again changes nothing", func(t *testing.T) {
		code, again, stderr := run(t, stdout, "inject", "-f", "-")
		if code != 0 || strings.Contains(stderr, " injected\n") {
			t.Fatalf("second pass: exit code %d, stderr:\n%s", code, stderr)
		}
		if diff := cmp.Diff(stdout, again); diff != "" {
			t.Errorf("second pass changed the output (-first +second):\n%s", diff)
		}
	})
}

// readCaseFile returns a file of the case, or def when it does not exist.
func readCaseFile(t *testing.T, dir, name, def string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return def
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// compareGolden compares got with the golden file, or rewrites it with -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s\n(if the change is intended, run go test -run TestGolden -update and review the diff)", filepath.Base(path), diff)
	}
}

// TestGoldenCasesCoverTheCLIAcceptance keeps the cases the issue asks for.
func TestGoldenCasesCoverTheCLIAcceptance(t *testing.T) {
	entries, err := os.ReadDir(goldenRoot)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, want := range []string{"repeated-filename", "directory", "directory-recursive", "stdin-between-files", "list-yaml", "list-json", "json", "flow-style"} {
		if !slices.Contains(names, want) {
			t.Errorf("no golden case %s in %s", want, goldenRoot)
		}
	}
}
