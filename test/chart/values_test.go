package chart_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// valueRef matches a reference to a value in the templates: .Values.a.b, or through the
// variables the templates bind to parts of .Values.
var valueRef = regexp.MustCompile(`(\.Values|\$values|\$inj)((?:\.[A-Za-z0-9_]+)+)`)

// aliasPrefix maps a template variable to the values path it is bound to.
var aliasPrefix = map[string]string{".Values": "", "$values": "", "$inj": "injection"}

// TestTemplatesAndValuesAgree: every value a template reads exists in values.yaml (helm
// renders a misspelt one as empty, silently), and every value in values.yaml is read by a
// template (a documented value that does nothing is a bug too).
func TestTemplatesAndValuesAgree(t *testing.T) {
	dir := newRenderer(t).ChartDir
	data, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.Unmarshal(data, &vals); err != nil {
		t.Fatal(err)
	}
	templates, err := filepath.Glob(filepath.Join(dir, "templates", "*"))
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]bool{}
	for _, file := range templates {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range valueRef.FindAllStringSubmatch(string(text), -1) {
			path := strings.TrimPrefix(aliasPrefix[m[1]]+m[2], ".")
			refs[path] = true
		}
	}
	if len(refs) < 20 {
		t.Fatalf("found only %d value references in %s/templates: is the pattern stale?", len(refs), dir)
	}
	for ref := range refs {
		if !resolves(vals, strings.Split(ref, ".")) {
			t.Errorf("a template reads .Values.%s, which values.yaml does not define", ref)
		}
	}
	var unused []string
	for _, leaf := range leaves(vals, "") {
		if !coveredBy(leaf, refs) {
			unused = append(unused, leaf)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("values.yaml defines values no template reads: %v", unused)
	}
}

func resolves(vals map[string]any, path []string) bool {
	v, ok := vals[path[0]]
	if !ok {
		return false
	}
	if len(path) == 1 {
		return true
	}
	next, ok := v.(map[string]any)
	return ok && resolves(next, path[1:])
}

// leaves lists the paths of values.yaml's values, stopping at empty maps and non-maps.
func leaves(vals map[string]any, prefix string) []string {
	var out []string
	for k, v := range vals {
		path := prefix + k
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			out = append(out, leaves(m, path+".")...)
			continue
		}
		out = append(out, path)
	}
	return out
}

// coveredBy reports whether a template reads the value or a map that holds it.
func coveredBy(leaf string, refs map[string]bool) bool {
	for ref := range refs {
		if leaf == ref || strings.HasPrefix(leaf, ref+".") {
			return true
		}
	}
	return false
}
