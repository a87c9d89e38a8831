package typedpatch

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
)

func TestSortOrdersKeysByPathAndArraysAsCreatePatchDoes(t *testing.T) {
	ops := []jsonpatch.Operation{
		{Operation: "replace", Path: "/spec/containers/0/image"},
		{Operation: "add", Path: "/spec/initContainers/2"},
		{Operation: "add", Path: "/metadata/annotations/b"},
		{Operation: "remove", Path: "/spec/volumes/2"},
		{Operation: "replace", Path: "/spec/initContainers/0"},
		{Operation: "add", Path: "/spec/initContainers/1"},
		{Operation: "add", Path: "/metadata/annotations/a"},
		{Operation: "remove", Path: "/spec/volumes/3"},
		{Operation: "add", Path: "/spec/containers/-"},
	}
	Sort(ops)
	var got []string
	for _, op := range ops {
		got = append(got, op.Operation+" "+op.Path)
	}
	want := []string{
		"add /metadata/annotations/a",
		"add /metadata/annotations/b",
		"add /spec/containers/-",
		"replace /spec/containers/0/image",
		// Within one array: adds from the first new index, then changes.
		"add /spec/initContainers/1",
		"add /spec/initContainers/2",
		"replace /spec/initContainers/0",
		// Removes from the end.
		"remove /spec/volumes/3",
		"remove /spec/volumes/2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sort (-want +got):\n%s", diff)
	}
}

// TestSortGivesOneOrderThatApplies shuffles CreatePatch's operations many
// times: Sort always gives the same list, and it turns a into b.
func TestSortGivesOneOrderThatApplies(t *testing.T) {
	tests := []struct{ name, a, b string }{
		{name: "arrays growing and shrinking, nested",
			a: `{"l":[{"x":[1,2,3]},{"y":1}],"m":[1,2,3,4],"o":{"p":1,"q":2}}`,
			b: `{"l":[{"x":[1]},{"y":2},{"z":[4,5]},7],"m":[0],"o":{"q":3,"r":[1,2]}}`},
		{name: "an object with numeric keys",
			a: `{"n":{"1":"a","2":"b","3":"c","10":"d","007":"e"}}`,
			b: `{"n":{"2":"x","7":"y","10":"z","11":"w"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first []byte
			for i := range 50 {
				ops, err := jsonpatch.CreatePatch([]byte(tt.a), []byte(tt.b))
				if err != nil {
					t.Fatal(err)
				}
				rand.Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })
				Sort(ops)
				encoded, err := json.Marshal(ops)
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = encoded
					checkApplies(t, tt.a, tt.b, encoded)
				} else if string(encoded) != string(first) {
					t.Fatalf("shuffle %d sorted to\n%s\nnot\n%s", i, encoded, first)
				}
			}
		})
	}
}

// checkApplies asserts that patch turns a into b.
func checkApplies(t *testing.T, a, b string, patch []byte) {
	t.Helper()
	p, err := jsonpatch5.DecodePatch(patch)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Apply([]byte(a))
	if err != nil {
		t.Fatalf("apply %s: %v", patch, err)
	}
	if !jsonpatch5.Equal(got, []byte(b)) {
		t.Errorf("the patch %s gives %s, want %s", patch, got, b)
	}
}
