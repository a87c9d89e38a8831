package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseValues(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    []Value
		wantErr string
	}{
		{
			name: "scalars, lists and maps are rows with their JSON default",
			yaml: `# A file header, not a description.

# -- The name.
name: ""
# -- How many.
count: 2
# -- A ratio.
ratio: 0.5
# -- Whether it is on.
on: true
# -- The ports.
ports: [1, 2]
# -- Free-form labels.
labels: {a: b}
`,
			want: []Value{
				{Key: "name", Type: "string", Default: "`\"\"`", Description: "The name."},
				{Key: "count", Type: "int", Default: "`2`", Description: "How many."},
				{Key: "ratio", Type: "float", Default: "`0.5`", Description: "A ratio."},
				{Key: "on", Type: "bool", Default: "`true`", Description: "Whether it is on."},
				{Key: "ports", Type: "list", Default: "`[1,2]`", Description: "The ports."},
				{Key: "labels", Type: "object", Default: "`{\"a\":\"b\"}`", Description: "Free-form labels."},
			},
		},
		{
			name: "an undocumented mapping is documented through its children",
			yaml: `image:
  # -- The repository.
  repository: r
  nested:
    # -- Deep.
    deep: 1
`,
			want: []Value{
				{Key: "image.repository", Type: "string", Default: "`\"r\"`", Description: "The repository."},
				{Key: "image.nested.deep", Type: "int", Default: "`1`", Description: "Deep."},
			},
		},
		{
			name: "continuation lines, @default and a type override are applied; section lines before -- are not",
			yaml: `# Section header.
# -- (string) The tag,
# on two lines.
# @default -- the appVersion
tag: ""
`,
			want: []Value{
				{Key: "tag", Type: "string", Default: "the appVersion", Description: "The tag, on two lines."},
			},
		},
		{
			name: "a table cell never breaks on a pipe",
			yaml: "# -- a | b\nx: \"|\"\n",
			want: []Value{{Key: "x", Type: "string", Default: "`\"|\"`", Description: "a | b"}},
		},
		{
			name:    "values without a description are all named in the error",
			yaml:    "a: 1\nb:\n  c: 2\n# -- Documented.\nd: 3\ne: {}\n",
			wantErr: "values without a `# --` description: a, b.c, e",
		},
		{
			name:    "a document that is not a mapping is refused",
			yaml:    "- 1\n",
			wantErr: "the document is a sequence, not a mapping",
		},
		{
			name:    "invalid YAML is an error",
			yaml:    "a: [\n",
			wantErr: "parse values",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseValues([]byte(tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseValues() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseValues() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseValues() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValuesTableEscapesPipes(t *testing.T) {
	got := ValuesTable([]Value{{Key: "x", Type: "string", Default: "`\"|\"`", Description: "a | b"}})
	want := "| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n" +
		"| x | string | `\"\\|\"` | a \\| b |\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ValuesTable() mismatch (-want +got):\n%s", diff)
	}
}

// TestChartREADMEIsCurrent fails when charts/gopherscope/README.md was not regenerated after
// a change to values.yaml, Chart.yaml or README.md.gotmpl.
func TestChartREADMEIsCurrent(t *testing.T) {
	dir := filepath.Join("..", "..", "charts", "gopherscope")
	want, err := Generate(dir)
	if err != nil {
		t.Fatalf("Generate(%q) error = %v", dir, err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("README.md is out of date; run `go run ./hack/chartdoc` (-want +got):\n%s", diff)
	}
}

func TestGenerateRefusesAChartWithAnUndocumentedValue(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"Chart.yaml":       "name: c\nversion: 0.1.0\n",
		"values.yaml":      "# -- Documented.\na: 1\nb: 2\n",
		"README.md.gotmpl": "{{ .ValuesTable }}",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Generate(dir)
	if err == nil || !strings.Contains(err.Error(), "values without a `# --` description: b") {
		t.Fatalf("Generate() error = %v, want one naming the undocumented value b", err)
	}
}
