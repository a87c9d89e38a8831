package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
)

// diffDocuments returns the JSON patch that turns document a into document
// b: the operations jsonpatch.CreatePatch(a, b) returns, with values that
// encode to the same JSON, computed on the encoded documents instead of on
// maps decoded from them. Values that are byte-identical in a and b are
// skipped without being looked into (a pod before and after injection is
// mostly such values: 2,000 env vars of containers the injector did not
// touch are compared as bytes, never decoded), and each value of the patch
// is b's own encoding of it (a json.RawMessage), so encoding the patch does
// not encode decoded maps again.
//
// It follows CreatePatch's rules exactly: objects are compared member by
// member (add, remove, or the difference of the two values), arrays by
// position (removes from the end, adds at the end, then the difference of
// each common position), scalars by their decoded value, and a change of
// type replaces the value. An object whose keys it cannot compare as bytes
// (a key written with an escape, written twice, or not valid UTF-8, which a
// decoder would fold into another key) is diffed by CreatePatch itself.
// Operations come in a deterministic order: the members of b in document
// order, then the removed members of a.
//
// a and b must each be one valid JSON value (a was decoded without error; b
// was encoded by encoding/json). Anything else gives an error or, where the
// malformed part is byte-identical in both, is not looked at.
func diffDocuments(a, b []byte) ([]jsonpatch.Operation, error) {
	d := differ{}
	if err := d.value(bytes.TrimSpace(a), bytes.TrimSpace(b)); err != nil {
		return nil, err
	}
	return d.ops, nil
}

// differ accumulates the operations of one diff.
type differ struct {
	// path is the JSON pointer of the values being compared.
	path []byte
	ops  []jsonpatch.Operation
}

// value diffs two values at d.path.
func (d *differ) value(a, b []byte) error {
	if bytes.Equal(a, b) {
		return nil
	}
	ka, kb := kindOf(a), kindOf(b)
	if ka == kindInvalid || kb == kindInvalid {
		return fmt.Errorf("diff at %q: not a JSON value", d.path)
	}
	if ka != kb {
		d.add("replace", b)
		return nil
	}
	switch ka {
	case kindObject:
		return d.object(a, b)
	case kindArray:
		return d.array(a, b)
	case kindString:
		same, err := sameString(a, b)
		if err != nil {
			return fmt.Errorf("diff at %q: %w", d.path, err)
		}
		if !same {
			d.add("replace", b)
		}
	default: // numbers compare as written (json.Number); true, false, null as bytes
		d.add("replace", b)
	}
	return nil
}

// object diffs two objects at d.path.
func (d *differ) object(a, b []byte) error {
	ma, errA := objectMembers(a)
	mb, errB := objectMembers(b)
	if errA != nil || errB != nil || !validKeys(ma) || !validKeys(mb) {
		return d.fallback(a, b)
	}
	find := memberFinder(ma)
	base := len(d.path)
	for _, m := range mb {
		d.path = appendKey(d.path[:base], m.key)
		j := find(m.key)
		if j < 0 {
			d.add("add", m.value)
			continue
		}
		va := ma[j].value
		ma[j].value = nil // matched; keys are unique
		if err := d.value(va, m.value); err != nil {
			return err
		}
	}
	for _, m := range ma {
		if m.value != nil {
			d.path = appendKey(d.path[:base], m.key)
			d.add("remove", nil)
		}
	}
	d.path = d.path[:base]
	return nil
}

// array diffs two arrays at d.path by position, in CreatePatch's order.
func (d *differ) array(a, b []byte) error {
	ea, err := arrayElements(a)
	if err != nil {
		return fmt.Errorf("diff at %q: %w", d.path, err)
	}
	eb, err := arrayElements(b)
	if err != nil {
		return fmt.Errorf("diff at %q: %w", d.path, err)
	}
	base := len(d.path)
	n := min(len(ea), len(eb))
	for i := len(ea) - 1; i >= n; i-- {
		d.path = appendIndex(d.path[:base], i)
		d.add("remove", nil)
	}
	for i := n; i < len(eb); i++ {
		d.path = appendIndex(d.path[:base], i)
		d.add("add", eb[i])
	}
	for i := range n {
		d.path = appendIndex(d.path[:base], i)
		if err := d.value(ea[i], eb[i]); err != nil {
			return err
		}
	}
	d.path = d.path[:base]
	return nil
}

// fallback diffs two objects at d.path with jsonpatch.CreatePatch, for keys
// only a decoder compares correctly.
func (d *differ) fallback(a, b []byte) error {
	ops, err := jsonpatch.CreatePatch(a, b)
	if err != nil {
		return fmt.Errorf("diff at %q: %w", d.path, err)
	}
	for _, op := range ops {
		if op.Value != nil {
			value, err := json.Marshal(op.Value)
			if err != nil {
				return fmt.Errorf("encode the value at %q: %w", op.Path, err)
			}
			op.Value = json.RawMessage(value)
		}
		op.Path = string(d.path) + op.Path
		d.ops = append(d.ops, op)
	}
	return nil
}

// add appends an operation at d.path; value nil means none (a remove).
func (d *differ) add(op string, value []byte) {
	var v any
	if value != nil {
		v = json.RawMessage(value)
	}
	d.ops = append(d.ops, jsonpatch.Operation{Operation: op, Path: string(d.path), Value: v})
}

// appendKey appends a member's key (quoted, without escapes) to a JSON
// pointer, escaped as RFC 6901 says.
func appendKey(path, key []byte) []byte {
	path = append(path, '/')
	for _, c := range key[1 : len(key)-1] {
		switch c {
		case '~':
			path = append(path, '~', '0')
		case '/':
			path = append(path, '~', '1')
		default:
			path = append(path, c)
		}
	}
	return path
}

// appendIndex appends an array index to a JSON pointer.
func appendIndex(path []byte, i int) []byte {
	return strconv.AppendInt(append(path, '/'), int64(i), 10)
}

// validKeys reports whether every key is valid UTF-8, so that comparing keys
// as bytes is comparing them as a decoder does (which turns each invalid
// byte into U+FFFD, making different bytes one key).
func validKeys(members []member) bool {
	for _, m := range members {
		if !utf8.Valid(m.key) {
			return false
		}
	}
	return true
}

// sameString reports whether two JSON strings that differ as bytes decode
// to the same string: written with different escapes, or with invalid UTF-8
// that decodes to U+FFFD.
func sameString(a, b []byte) (bool, error) {
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(a) && utf8.Valid(b) {
		return false, nil
	}
	var sa, sb string
	if err := json.Unmarshal(a, &sa); err != nil {
		return false, fmt.Errorf("decode a string: %w", err)
	}
	if err := json.Unmarshal(b, &sb); err != nil {
		return false, fmt.Errorf("decode a string: %w", err)
	}
	return sa == sb, nil
}

// kind is the JSON type of a value, as CreatePatch compares types.
type kind int

const (
	kindInvalid kind = iota
	kindObject
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

// kindOf tells a value's type from its first byte.
func kindOf(v []byte) kind {
	if len(v) == 0 {
		return kindInvalid
	}
	switch c := v[0]; {
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == '"':
		return kindString
	case c == 't' || c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	case c == '-' || c >= '0' && c <= '9':
		return kindNumber
	}
	return kindInvalid
}
