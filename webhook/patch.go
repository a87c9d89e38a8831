package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// patchResponse answers with the JSON patch that turns the request's object
// into the injected pod, computed by diffing (never written by hand).
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
	resp, err := patchResponseFromRaw(raw, injectedJSON)
	if err != nil {
		return admission.Response{}, fmt.Errorf("diff the injected pod: %w", err)
	}
	sortOperations(resp.Patches)
	originalJSON, err := json.Marshal(original)
	if err != nil {
		return admission.Response{}, fmt.Errorf("encode the pod: %w", err)
	}
	if bytes.Equal(bytes.TrimSpace(raw), originalJSON) {
		// The usual case: the API server encoded the object from the same
		// types, so there is nothing to filter.
		return resp, nil
	}
	roundTrip, err := jsonpatch.CreatePatch(pruneEqualMembers(raw, originalJSON))
	if err != nil {
		return admission.Response{}, fmt.Errorf("diff the decoded pod: %w", err)
	}
	if len(roundTrip) == 0 {
		return resp, nil
	}
	// Compare paths first: encoding an operation's value (the whole
	// sidecar) only to compare it is most of the cost of this function.
	artefacts := make(map[string][]string, len(roundTrip))
	for _, op := range roundTrip {
		artefacts[op.Path] = append(artefacts[op.Path], op.Json())
	}
	kept := resp.Patches[:0]
	for _, op := range resp.Patches {
		if candidates, ok := artefacts[op.Path]; !ok || !slices.Contains(candidates, op.Json()) {
			kept = append(kept, op)
		}
	}
	resp.Patches = kept
	if len(kept) == 0 {
		resp.PatchType = nil
	}
	return resp, nil
}

// sortOperations puts a patch in a deterministic order: jsonpatch walks maps
// in Go's random order, and the same pod must give a byte-identical patch.
// Operations are ordered by path, except that operations on the elements of
// one array keep the order jsonpatch gave them (inserting index 10 before
// index 2 would not apply). Operations with different keys commute, so the
// order changes nothing about what the patch does.
func sortOperations(ops []jsonpatch.Operation) {
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
