package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/internal/patchorder"
)

// patchResponse answers with the JSON patch that turns the request's object
// into the injected pod, computed by diffing the two documents (never written
// by hand; see diffDocuments).
//
// Decoding the raw object into a typed Pod and encoding it again is not
// always the identity: a field our k8s.io/api version does not know is
// dropped, an omitted empty struct comes back as {}. Diffing the raw object
// against the injected pod would turn those differences into operations that
// remove or rewrite what the user sent. Every operation that also appears
// when the unmodified typed pod is diffed against the raw object is such an
// artefact of the round trip, not a change of the injector, and is dropped.
func patchResponse(raw []byte, original, injected *corev1.Pod) (admission.Response, error) {
	injectedJSON, err := json.Marshal(injected)
	if err != nil {
		return admission.Response{}, fmt.Errorf("encode the injected pod: %w", err)
	}
	ops, err := diffDocuments(raw, injectedJSON)
	if err != nil {
		return admission.Response{}, fmt.Errorf("diff the injected pod: %w", err)
	}
	originalJSON, err := json.Marshal(original)
	if err != nil {
		return admission.Response{}, fmt.Errorf("encode the pod: %w", err)
	}
	// The usual case is that the API server encoded the object from the
	// same types, and there is nothing to filter.
	if !bytes.Equal(bytes.TrimSpace(raw), originalJSON) {
		roundTrip, err := diffDocuments(raw, originalJSON)
		if err != nil {
			return admission.Response{}, fmt.Errorf("diff the decoded pod: %w", err)
		}
		ops = dropArtefacts(ops, roundTrip)
	}
	patchorder.Sort(ops)
	resp := admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true}}
	if len(ops) > 0 {
		// Set as bytes, not as resp.Patches, which Response.Complete would
		// encode through jsonpatch's MarshalJSON, copying every value twice.
		if resp.Patch, err = encodePatch(ops); err != nil {
			return admission.Response{}, fmt.Errorf("encode the patch: %w", err)
		}
		pt := admissionv1.PatchTypeJSONPatch
		resp.PatchType = &pt
	}
	return resp, nil
}

// encodePatch writes operations as a JSON patch, as jsonpatch's MarshalJSON
// does (a remove has no value; an add or replace always has one, null if
// nil), in one buffer. Values are the json.RawMessage that diffDocuments
// gives, written as they are.
func encodePatch(ops []jsonpatch.Operation) ([]byte, error) {
	size := 2
	for _, op := range ops {
		size += len(`{"op":"","path":"","value":},`) + len(op.Operation) + len(op.Path)
		if v, ok := op.Value.(json.RawMessage); ok {
			size += len(v)
		}
	}
	out := make([]byte, 0, size)
	out = append(out, '[')
	for i, op := range ops {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"op":`...)
		out = appendJSONString(out, op.Operation)
		out = append(out, `,"path":`...)
		out = appendJSONString(out, op.Path)
		switch v := op.Value.(type) {
		case nil:
			if op.Operation == "add" || op.Operation == "replace" {
				out = append(out, `,"value":null`...)
			}
		case json.RawMessage:
			out = append(out, `,"value":`...)
			out = append(out, v...)
		default:
			return nil, fmt.Errorf("the value at %q is a %T, not encoded JSON", op.Path, op.Value)
		}
		out = append(out, '}')
	}
	return append(out, ']'), nil
}

// appendJSONString appends s as a JSON string: as it is when it holds
// only printable ASCII that needs no escape, else as encoding/json writes it.
func appendJSONString(out []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s) // a string always encodes
			return append(out, quoted...)
		}
	}
	out = append(out, '"')
	out = append(out, s...)
	return append(out, '"')
}

// dropArtefacts removes from ops every operation that roundTrip holds too:
// the same operation on the same path with an equal value.
func dropArtefacts(ops, roundTrip []jsonpatch.Operation) []jsonpatch.Operation {
	if len(roundTrip) == 0 {
		return ops
	}
	artefacts := make(map[string][]jsonpatch.Operation, len(roundTrip))
	for _, op := range roundTrip {
		artefacts[op.Path] = append(artefacts[op.Path], op)
	}
	kept := ops[:0]
	for _, op := range ops {
		if !slices.ContainsFunc(artefacts[op.Path], func(a jsonpatch.Operation) bool { return sameOperation(a, op) }) {
			kept = append(kept, op)
		}
	}
	return kept
}

// sameOperation reports whether two operations on one path are the same:
// the same op and values that decode to equal JSON (compared as bytes first:
// encoding/json encodes equal values alike).
func sameOperation(a, b jsonpatch.Operation) bool {
	if a.Operation != b.Operation {
		return false
	}
	va, okA := a.Value.(json.RawMessage)
	vb, okB := b.Value.(json.RawMessage)
	if !okA || !okB {
		return a.Value == nil && b.Value == nil
	}
	if bytes.Equal(va, vb) {
		return true
	}
	return sameJSON(va, vb)
}

// sameJSON reports whether two JSON values decode to equal values, numbers
// compared as written (as jsonpatch compares them).
func sameJSON(a, b []byte) bool {
	decode := func(data []byte) (any, error) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		err := dec.Decode(&v)
		return v, err
	}
	va, errA := decode(a)
	vb, errB := decode(b)
	return errA == nil && errB == nil && reflect.DeepEqual(va, vb)
}
