package webhook

import (
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gopherscope/gopherscope/internal/typedpatch"
)

// patchResponse answers with the JSON patch that turns the request's object
// into the injected pod: jsonpatch's diff of the pod as the API types encode
// it before and after injection, made to apply to the object as it was sent
// (see typedpatch.Apply), so fields this binary does not know are kept.
func patchResponse(raw []byte, original, injected *corev1.Pod) (admission.Response, error) {
	before, err := json.Marshal(original)
	if err != nil {
		return admission.Response{}, fmt.Errorf("encode the pod: %w", err)
	}
	after, err := json.Marshal(injected)
	if err != nil {
		return admission.Response{}, fmt.Errorf("encode the injected pod: %w", err)
	}
	_, ops, err := typedpatch.Apply(raw, before, after)
	if err != nil {
		return admission.Response{}, fmt.Errorf("patch the pod: %w", err)
	}
	resp := admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true}}
	if len(ops) == 0 {
		return resp, nil
	}
	// Set as bytes, not as resp.Patches, so that the answer is complete
	// without admission.Webhook's encoding of it.
	if resp.Patch, err = json.Marshal(ops); err != nil {
		return admission.Response{}, fmt.Errorf("encode the patch: %w", err)
	}
	pt := admissionv1.PatchTypeJSONPatch
	resp.PatchType = &pt
	return resp, nil
}
