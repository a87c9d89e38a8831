// Package patchorder puts JSON patches in a deterministic order, so the same
// injection always gives a byte-identical patch (the webhook's answer) and the
// same document (the CLI's output): jsonpatch walks maps in Go's random order.
package patchorder

import (
	"slices"
	"strconv"
	"strings"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
)

// Sort orders ops by path, in place. Operations on the elements of one array
// keep the order they came in (inserting index 10 before index 2 would not
// apply); operations on different keys commute, so the order changes nothing
// about what the patch does.
func Sort(ops []jsonpatch.Operation) {
	slices.SortStableFunc(ops, func(a, b jsonpatch.Operation) int {
		return strings.Compare(arrayParent(a.Path), arrayParent(b.Path))
	})
}

// arrayParent is a path without its last segment when that segment is an
// array index, else the path itself.
func arrayParent(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return path
	}
	if _, err := strconv.Atoi(path[i+1:]); err == nil || path[i+1:] == "-" {
		return path[:i]
	}
	return path
}
