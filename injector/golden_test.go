package injector

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/config"
)

var update = flag.Bool("update", false, "rewrite the expected files under testdata/ from the current output")

// testVersion stands in for version.Version so golden files do not change
// with every commit.
const testVersion = "v0.0.0-test"

// The files of a golden case, in testdata/<case>/.
const (
	podFile       = "pod.yaml"           // input pod (required)
	namespaceFile = "namespace.yaml"     // goldenNamespace (required)
	configFile    = "config.yaml"        // config.Parse over the defaults (optional)
	caFile        = "diagnostics-ca.pem" // config.Config.DiagnosticsCA, through config.ParseDiagnosticsCA (optional)
	wantFile      = "want.yaml"          // expected pod, present only when the pod changes
	decisionFile  = "decision.yaml"      // expected goldenDecision (required)
)

// goldenNamespace is namespace.yaml.
type goldenNamespace struct {
	Name        string              `json:"name,omitempty"`
	Labels      map[string]string   `json:"labels,omitempty"`
	LimitRanges []corev1.LimitRange `json:"limitRanges,omitempty"`
	Offline     bool                `json:"offline,omitempty"`
}

// goldenDecision is decision.yaml.
type goldenDecision struct {
	Decision Decision `json:"decision"`
	Warnings []string `json:"warnings,omitempty"`
}

// goldenCase is one loaded testdata/<case>/ directory.
type goldenCase struct {
	name string
	pod  *corev1.Pod
	ns   Namespace
	cfg  *config.Config
}

// TestGolden runs every case under testdata/, compares the pod and the
// decision with the expected files, checks that the input was not modified
// and that a second pass over the output changes nothing. With every case
// run, a file no case read fails the test (a stale golden file).
func TestGolden(t *testing.T) {
	dirs := caseDirs(t)
	used := map[string]bool{}
	ran := 0
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ran++
			if *update && filepath.Base(dir) == manyEnvCase {
				writeManyEnvPod(t, filepath.Join(dir, podFile))
			}
			c := loadCase(t, dir, used)
			runGoldenCase(t, dir, c, used)
		})
	}
	if ran != len(dirs) {
		return // filtered with -run: the stale check would be wrong
	}
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case path == fuzzCorpusDir:
			return filepath.SkipDir
		case d.IsDir():
			return nil
		}
		if !used[path] {
			t.Errorf("%s is not used by any golden case (stale file?)", path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk testdata: %v", err)
	}
}

func runGoldenCase(t *testing.T, dir string, c goldenCase, used map[string]bool) {
	t.Helper()
	before := c.pod.DeepCopy()
	out, warnings, decision := Inject(c.pod, c.ns, c.cfg)
	if diff := cmp.Diff(before, c.pod); diff != "" {
		t.Errorf("Inject modified its input pod (-before +after):\n%s", diff)
	}

	gotDecision, err := yaml.Marshal(goldenDecision{Decision: decision, Warnings: warnings})
	if err != nil {
		t.Fatalf("marshal decision: %v", err)
	}
	compareGolden(t, filepath.Join(dir, decisionFile), gotDecision, used)

	wantPath := filepath.Join(dir, wantFile)
	if equality.Semantic.DeepEqual(c.pod, out) {
		if *update {
			if err := os.Remove(wantPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("remove %s: %v", wantPath, err)
			}
		} else if _, err := os.Stat(wantPath); err == nil {
			t.Errorf("the pod is unchanged, but %s expects a changed pod", wantPath)
		}
	} else {
		gotPod, err := yaml.Marshal(out)
		if err != nil {
			t.Fatalf("marshal pod: %v", err)
		}
		compareGolden(t, wantPath, gotPod, used)
	}

	// A second pass (a webhook reinvocation, the CLI run twice) changes nothing.
	again, againWarnings, againDecision := Inject(out, c.ns, c.cfg)
	if diff := cmp.Diff(out, again); diff != "" {
		t.Errorf("a second pass changed the pod (-first +second):\n%s", diff)
	}
	wantAgain := decision
	if decision.Action == ActionInject {
		wantAgain = Decision{Action: ActionSkip, Reason: ReasonAlreadyInjected}
		againDecision.Message = ""
		if len(againWarnings) != 0 {
			t.Errorf("second pass warnings = %q, want none", againWarnings)
		}
	}
	if diff := cmp.Diff(wantAgain, againDecision); diff != "" {
		t.Errorf("second pass decision (-want +got):\n%s", diff)
	}
}

// compareGolden compares got with the file at path, or rewrites the file
// with -update.
func compareGolden(t *testing.T, path string, got []byte, used map[string]bool) {
	t.Helper()
	used[path] = true
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read expected output (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// loadCase reads a case's inputs, strictly: a typo in a test input fails.
func loadCase(t testing.TB, dir string, used map[string]bool) goldenCase {
	t.Helper()
	c := goldenCase{name: filepath.Base(dir), pod: &corev1.Pod{}}
	readYAML(t, filepath.Join(dir, podFile), c.pod, used)
	var ns goldenNamespace
	readYAML(t, filepath.Join(dir, namespaceFile), &ns, used)
	c.ns = Namespace(ns)

	c.cfg = config.Default(testVersion)
	cfgPath := filepath.Join(dir, configFile)
	if data, err := os.ReadFile(cfgPath); err == nil {
		used[cfgPath] = true
		if c.cfg, err = config.Parse(data, testVersion); err != nil {
			t.Fatalf("%s: %v", cfgPath, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read %s: %v", cfgPath, err)
	}
	caPath := filepath.Join(dir, caFile)
	if data, err := os.ReadFile(caPath); err == nil {
		used[caPath] = true
		if _, c.cfg.DiagnosticsCA, err = config.ParseDiagnosticsCA(data); err != nil {
			t.Fatalf("%s: %v", caPath, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read %s: %v", caPath, err)
	}
	c.cfg.InjectorVersion = testVersion
	return c
}

func readYAML(t testing.TB, path string, into any, used map[string]bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	used[path] = true
}

// loadAllCases loads every golden case's inputs, for the tests, fuzz seeds
// and benchmarks that reuse them.
func loadAllCases(tb testing.TB) []goldenCase {
	tb.Helper()
	dirs := caseDirs(tb)
	cases := make([]goldenCase, 0, len(dirs))
	for _, dir := range dirs {
		cases = append(cases, loadCase(tb, dir, map[string]bool{}))
	}
	return cases
}

// fuzzCorpusDir is where `go test -fuzz` keeps failing inputs; it is not a
// golden case.
var fuzzCorpusDir = filepath.Join("testdata", "fuzz")

// caseDirs lists the golden case directories, sorted.
func caseDirs(tb testing.TB) []string {
	tb.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		tb.Fatalf("list testdata: %v", err)
	}
	var dirs []string
	for _, e := range entries {
		if path := filepath.Join("testdata", e.Name()); path != fuzzCorpusDir {
			dirs = append(dirs, path)
		}
	}
	if len(dirs) == 0 {
		tb.Fatal("no golden cases under testdata/")
	}
	return dirs
}

// testDiagnosticsCA is the bundle of a golden case's diagnostics-ca.pem, for
// the tests that inject with a diagnostics port.
func testDiagnosticsCA(tb testing.TB) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "diagnostics-port-with-two-roots", caFile))
	if err != nil {
		tb.Fatal(err)
	}
	_, bundle, err := config.ParseDiagnosticsCA(data)
	if err != nil {
		tb.Fatal(err)
	}
	return bundle
}
