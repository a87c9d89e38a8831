package cli

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplitDocuments(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  []string // body of each document
		lines []int
	}{
		{name: "a single document", in: "a: 1\n", want: []string{"a: 1\n"}, lines: []int{1}},
		{name: "a leading separator", in: "---\na: 1\n---\nb: 2\n", want: []string{"a: 1\n", "b: 2\n"}, lines: []int{2, 4}},
		{name: "separators with comments and CRLF", in: "a: 1\r\n--- # two\r\nb: 2\r\n---\r\n", want: []string{"a: 1\r\n", "b: 2\r\n", ""}, lines: []int{1, 3, 5}},
		{name: "dashes that are not a separator", in: "a: |\n  ---\n----\n---x\n", want: []string{"a: |\n  ---\n----\n---x\n"}, lines: []int{1}},
		{name: "no final newline", in: "a: 1\n---\nb: 2", want: []string{"a: 1\n", "b: 2"}, lines: []int{1, 3}},
		{name: "empty input", in: "", want: nil, lines: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := splitDocuments([]byte(tt.in))
			var bodies []string
			var lines []int
			var joined []byte
			for _, d := range docs {
				bodies = append(bodies, string(d.body))
				lines = append(lines, d.line)
				joined = append(append(joined, d.separator...), d.body...)
			}
			if diff := cmp.Diff(tt.want, bodies); diff != "" {
				t.Errorf("bodies (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.lines, lines); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if string(joined) != tt.in {
				t.Errorf("the documents join to %q, want the input %q", joined, tt.in)
			}
		})
	}
}

// FuzzSplitDocuments: the documents always join back to the input.
func FuzzSplitDocuments(f *testing.F) {
	for _, seed := range []string{"a: 1\n---\nb: 2\n", "---\r\n--- x\n---", "-- -\n---\t\n", ""} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var joined []byte
		for _, d := range splitDocuments(in) {
			if len(d.separator) > 0 && !isSeparator(d.separator) {
				t.Fatalf("separator %q is not a separator line", d.separator)
			}
			joined = append(append(joined, d.separator...), d.body...)
		}
		if !bytes.Equal(joined, in) {
			t.Fatalf("the documents join to %q, want %q", joined, in)
		}
	})
}
