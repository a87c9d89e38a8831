package typedpatch

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
)

// Sort puts operations made by jsonpatch.CreatePatch, which walks maps in
// Go's random order, in one deterministic order, in place. Operations on
// different object keys commute, so they are ordered by path. Operations on
// the elements of one array do not (inserting index 10 before index 2 would
// not apply): CreatePatch gives them as removes from the end, then adds from
// the first new index, then the changes of the common elements by index, and
// that is the order Sort gives them, so it never moves one past another.
// Numeric keys of an object are ordered the same way (any order is safe for
// them), then by path.
func Sort(ops []jsonpatch.Operation) {
	slices.SortStableFunc(ops, compare)
}

// compare orders two operations for Sort.
func compare(a, b jsonpatch.Operation) int {
	parentA, indexA := splitIndex(a.Path)
	parentB, indexB := splitIndex(b.Path)
	if c := strings.Compare(parentA, parentB); c != 0 {
		return c
	}
	if c := cmp.Compare(rank(a), rank(b)); c != 0 {
		return c
	}
	c := cmp.Compare(indexA, indexB)
	if a.Operation == "remove" {
		c = -c
	}
	if c != 0 {
		return c
	}
	return strings.Compare(a.Path, b.Path)
}

// rank is where CreatePatch puts an operation among those on one array.
func rank(op jsonpatch.Operation) int {
	switch op.Operation {
	case "remove":
		return 0
	case "add":
		return 1
	default:
		return 2
	}
}

// splitIndex splits a path whose last segment is an array index (or "-",
// the end) into the array's path and the index; any other path is returned
// whole, with index -1.
func splitIndex(path string) (string, int) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return path, -1
	}
	last := path[i+1:]
	if last == "-" {
		return path[:i], math.MaxInt
	}
	if n, err := strconv.Atoi(last); err == nil {
		return path[:i], n
	}
	return path, -1
}
