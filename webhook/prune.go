package webhook

import (
	"bytes"
	"errors"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// patchResponseFromRaw is admission.PatchResponseFromRaw(raw, current) on
// pruned documents (see pruneEqualMembers): the same patch, found faster.
func patchResponseFromRaw(raw, current []byte) (admission.Response, error) {
	patches, err := jsonpatch.CreatePatch(pruneEqualMembers(raw, current))
	if err != nil {
		return admission.Response{}, err
	}
	resp := admission.Response{Patches: patches, AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true}}
	if len(patches) > 0 {
		pt := admissionv1.PatchTypeJSONPatch
		resp.PatchType = &pt
	}
	return resp, nil
}

// pruneEqualMembers makes jsonpatch.CreatePatch(a, b) cheap for documents
// that are mostly equal, as a pod before and after injection is: object
// members whose encodings are byte-identical in a and b are removed from
// both before diffing, recursively through objects (never inside arrays, where
// positions matter). A member equal in both yields no operation, and the
// operations on the other members do not depend on it, so the patch is the
// one the whole documents give; only the work is smaller (2,000 env vars of
// containers the injector did not touch are compared as bytes, not decoded
// into maps). Documents that cannot be pruned safely are diffed whole.
//
// a and b must be valid JSON (a decoded without error; b was encoded by us).
func pruneEqualMembers(a, b []byte) (prunedA, prunedB []byte) {
	pa, pb, err := pruneObjects(a, b)
	if err != nil {
		return a, b
	}
	return pa, pb
}

// errNotPrunable stops pruning: the documents are diffed as they are.
var errNotPrunable = errors.New("not prunable")

// pruneObjects prunes two JSON objects; values that are not both objects
// come back unchanged.
func pruneObjects(a, b []byte) ([]byte, []byte, error) {
	a, b = bytes.TrimSpace(a), bytes.TrimSpace(b)
	if len(a) == 0 || len(b) == 0 || a[0] != '{' || b[0] != '{' {
		return a, b, nil
	}
	ma, err := objectMembers(a)
	if err != nil {
		return nil, nil, err
	}
	mb, err := objectMembers(b)
	if err != nil {
		return nil, nil, err
	}
	find := memberFinder(mb)
	keptA := ma[:0] // filtered in place
	for _, m := range ma {
		j := find(m.key)
		switch {
		case j < 0:
			keptA = append(keptA, m)
		case bytes.Equal(m.value, mb[j].value):
			mb[j].value = nil // dropped from b too
		default:
			va, vb, err := pruneObjects(m.value, mb[j].value)
			if err != nil {
				return nil, nil, err
			}
			keptA = append(keptA, member{key: m.key, value: va})
			mb[j].value = vb
		}
	}
	keptB := mb[:0]
	for _, m := range mb {
		if m.value != nil {
			keptB = append(keptB, m)
		}
	}
	return joinMembers(keptA), joinMembers(keptB), nil
}

// joinMembers writes members as one JSON object, in one allocation.
func joinMembers(members []member) []byte {
	size := 2
	for _, m := range members {
		size += len(m.key) + 1 + len(m.value) + 1
	}
	obj := make([]byte, 0, size)
	obj = append(obj, '{')
	for i, m := range members {
		if i > 0 {
			obj = append(obj, ',')
		}
		obj = append(obj, m.key...)
		obj = append(obj, ':')
		obj = append(obj, m.value...)
	}
	return append(obj, '}')
}

// smallObject is the member count up to which members are looked up by
// scanning; larger objects (a pod's many annotations) get a map.
const smallObject = 32

// memberFinder returns a function giving the index of the member with a
// key in members, or -1.
func memberFinder(members []member) func(key []byte) int {
	if len(members) <= smallObject {
		return func(key []byte) int {
			for i, m := range members {
				if bytes.Equal(m.key, key) {
					return i
				}
			}
			return -1
		}
	}
	index := make(map[string]int, len(members))
	for i, m := range members {
		index[string(m.key)] = i
	}
	return func(key []byte) int {
		if i, ok := index[string(key)]; ok {
			return i
		}
		return -1
	}
}

// member is one member of a JSON object: its key as written (quotes
// included) and its value's bytes.
type member struct {
	key, value []byte
}

// objectMembers splits a JSON object into its members. It trusts the input
// to be valid JSON and only finds boundaries; a key written with an escape
// or written twice makes the object not prunable (a decoder would see two
// spellings of one key, or only the last of two).
func objectMembers(obj []byte) ([]member, error) {
	var out []member
	var seen map[string]bool // once the object is not small
	i := skipSpace(obj, 1)
	if i < len(obj) && obj[i] == '}' {
		return out, nil
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return nil, errNotPrunable
		}
		end, escaped := stringEnd(obj, i)
		if end < 0 || escaped {
			return nil, errNotPrunable
		}
		key := obj[i:end]
		if isDuplicate(out, key, &seen) {
			return nil, errNotPrunable
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, errNotPrunable
		}
		start := skipSpace(obj, i+1)
		end = valueEnd(obj, start)
		if end <= start {
			return nil, errNotPrunable
		}
		out = append(out, member{key: key, value: obj[start:end]})
		i = skipSpace(obj, end)
		switch {
		case i < len(obj) && obj[i] == ',':
			i = skipSpace(obj, i+1)
		case i < len(obj) && obj[i] == '}':
			return out, nil
		default:
			return nil, errNotPrunable
		}
	}
	return nil, errNotPrunable
}

// isDuplicate reports whether key is among the members found so far: by
// scanning while they are few, then with the map *seen, built on demand.
func isDuplicate(found []member, key []byte, seen *map[string]bool) bool {
	if len(found) < smallObject {
		for _, m := range found {
			if bytes.Equal(m.key, key) {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]bool, 2*len(found))
		for _, m := range found {
			(*seen)[string(m.key)] = true
		}
	}
	if (*seen)[string(key)] {
		return true
	}
	(*seen)[string(key)] = true
	return false
}

// stringEnd returns the index after the string that starts at s[i] (a
// quote), and whether it holds an escape; -1 if it does not end. Quotes and
// backslashes are found with bytes.IndexByte, which is vectorized: a pod is
// mostly strings.
func stringEnd(s []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(s); {
		k := bytes.IndexByte(s[j:], '"')
		if k < 0 {
			return -1, escaped
		}
		b := bytes.IndexByte(s[j:j+k], '\\')
		if b < 0 {
			return j + k + 1, escaped
		}
		escaped = true
		j += b + 2 // past the backslash and the byte it escapes
	}
	return -1, escaped
}

// valueEnd returns the index after the value that starts at s[i]: a
// string, an object or array (nesting counted, strings skipped), or a
// literal (up to the next delimiter); -1 if it does not end.
func valueEnd(s []byte, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		end, _ := stringEnd(s, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				end, _ := stringEnd(s, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(s) && !isDelimiter(s[j]) {
			j++
		}
		return j
	}
}

// isDelimiter reports whether c ends a literal (number, true, false, null).
func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}
