package chart_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.yaml from the chart")

// secretMaterial matches what tls.mode=helm generates afresh on every render.
var secretMaterial = regexp.MustCompile(`(?m)^(\s+(?:tls\.crt|tls\.key|ca\.crt|caBundle|gopherscope\.io/tls-not-after): ).+$`)

// TestGolden renders the chart with each testdata/<case>.values.yaml and compares the
// manifest with testdata/<case>.golden.yaml (generated certificates redacted). Run with
// -update to rewrite the golden files after an intended change, and review the diff.
func TestGolden(t *testing.T) {
	valuesFiles, err := filepath.Glob(filepath.Join("testdata", "*.values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(valuesFiles) == 0 {
		t.Fatal("no testdata/*.values.yaml")
	}
	used := map[string]bool{}
	for _, valuesFile := range valuesFiles {
		name := strings.TrimSuffix(filepath.Base(valuesFile), ".values.yaml")
		goldenFile := filepath.Join("testdata", name+".golden.yaml")
		used[goldenFile] = true
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(valuesFile)
			if err != nil {
				t.Fatal(err)
			}
			var vals map[string]any
			if err := yaml.Unmarshal(data, &vals); err != nil {
				t.Fatalf("parse %s: %v", valuesFile, err)
			}
			got := secretMaterial.ReplaceAll(renderRaw(t, vals), []byte("${1}REDACTED"))
			if *update {
				if err := os.WriteFile(goldenFile, got, 0o600); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenFile)
			if err != nil {
				t.Fatalf("%v (run go test ./test/chart -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s is out of date (-want +got); run go test ./test/chart -update if intended:\n%s", goldenFile, diff)
			}
		})
	}
	goldens, err := filepath.Glob(filepath.Join("testdata", "*.golden.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		if !used[g] {
			t.Errorf("%s has no matching .values.yaml: delete it", g)
		}
	}
}
