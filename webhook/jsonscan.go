package webhook

import (
	"bytes"
	"errors"
)

var (
	// errNotComparable makes an object be diffed by jsonpatch.CreatePatch.
	errNotComparable = errors.New("an object whose keys are not comparable as bytes, or not an object")
	// errNotArray is a malformed array.
	errNotArray = errors.New("not a JSON array")
)

// The scanners below find the boundaries of JSON values in documents known
// to be valid (see diffDocuments); they never decode.

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
// or written twice makes the object not comparable as bytes (a decoder
// would see two spellings of one key, or only the last of two).
func objectMembers(obj []byte) ([]member, error) {
	var out []member
	var seen map[string]bool // once the object is not small
	i := skipSpace(obj, 1)
	if i < len(obj) && obj[i] == '}' {
		return out, nil
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return nil, errNotComparable
		}
		end, escaped := stringEnd(obj, i)
		if end < 0 || escaped {
			return nil, errNotComparable
		}
		key := obj[i:end]
		if isDuplicate(out, key, &seen) {
			return nil, errNotComparable
		}
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, errNotComparable
		}
		start := skipSpace(obj, i+1)
		end = valueEnd(obj, start)
		if end <= start {
			return nil, errNotComparable
		}
		out = append(out, member{key: key, value: obj[start:end]})
		i = skipSpace(obj, end)
		switch {
		case i < len(obj) && obj[i] == ',':
			i = skipSpace(obj, i+1)
		case i < len(obj) && obj[i] == '}':
			return out, nil
		default:
			return nil, errNotComparable
		}
	}
	return nil, errNotComparable
}

// arrayElements splits a JSON array into its elements. Like objectMembers
// it trusts the input to be valid JSON and only finds boundaries.
func arrayElements(arr []byte) ([][]byte, error) {
	var out [][]byte
	i := skipSpace(arr, 1)
	if i < len(arr) && arr[i] == ']' {
		return out, nil
	}
	for i < len(arr) {
		end := valueEnd(arr, i)
		if end <= i {
			return nil, errNotArray
		}
		out = append(out, arr[i:end])
		i = skipSpace(arr, end)
		switch {
		case i < len(arr) && arr[i] == ',':
			i = skipSpace(arr, i+1)
		case i < len(arr) && arr[i] == ']':
			return out, nil
		default:
			return nil, errNotArray
		}
	}
	return nil, errNotArray
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
