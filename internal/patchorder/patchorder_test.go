package patchorder

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
)

func TestSortOrdersByPathAndKeepsArrayInsertsInOrder(t *testing.T) {
	ops := []jsonpatch.Operation{
		{Operation: "add", Path: "/spec/initContainers/1"},
		{Operation: "add", Path: "/metadata/annotations/b"},
		{Operation: "add", Path: "/spec/initContainers/0"},
		{Operation: "add", Path: "/metadata/annotations/a"},
		{Operation: "add", Path: "/spec/containers/-"},
	}
	Sort(ops)
	var got []string
	for _, op := range ops {
		got = append(got, op.Path)
	}
	want := []string{
		"/metadata/annotations/a",
		"/metadata/annotations/b",
		"/spec/containers/-",
		// Elements of one array keep their relative order.
		"/spec/initContainers/1",
		"/spec/initContainers/0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sort (-want +got):\n%s", diff)
	}
}
