package typedpatch

import (
	"bytes"
	"encoding/json"
	"fmt"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
)

// Apply applies the change from before to after, two encodings of one typed
// object decoded from doc, to doc itself. It returns the changed document
// and the operations that turn doc into it, ordered by Sort.
//
// The change is jsonpatch's diff of the two encodings, so whatever the
// encoding adds or drops is the same on both sides and cancels out. When doc
// is not that encoding byte for byte (a field these types do not know, an
// empty field left out, a parent missing), the change is applied to doc,
// creating missing parents, and doc is diffed against the result.
func Apply(doc, before, after []byte) ([]byte, []jsonpatch.Operation, error) {
	change, err := jsonpatch.CreatePatch(before, after)
	if err != nil {
		return nil, nil, fmt.Errorf("diff the changed object: %w", err)
	}
	if bytes.Equal(bytes.TrimSpace(doc), before) {
		Sort(change)
		return after, change, nil
	}
	changed, err := applyCreatingParents(doc, change)
	if err != nil {
		return nil, nil, err
	}
	ops, err := jsonpatch.CreatePatch(doc, changed)
	if err != nil {
		return nil, nil, fmt.Errorf("diff the changed document: %w", err)
	}
	Sort(ops)
	return changed, ops, nil
}

// applyCreatingParents applies ops to doc, creating the missing objects on
// the path of an add.
func applyCreatingParents(doc []byte, ops []jsonpatch.Operation) ([]byte, error) {
	encoded, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encode the change: %w", err)
	}
	patch, err := jsonpatch5.DecodePatch(encoded)
	if err != nil {
		return nil, fmt.Errorf("decode the change: %w", err)
	}
	options := jsonpatch5.NewApplyOptions()
	options.EnsurePathExistsOnAdd = true
	changed, err := patch.ApplyWithOptions(doc, options)
	if err != nil {
		return nil, fmt.Errorf("apply the change: %w", err)
	}
	return changed, nil
}
