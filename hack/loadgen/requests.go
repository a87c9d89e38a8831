package loadgen

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/internal/testfixture"
)

// distinctRequests is how many different uids a request set cycles through.
const distinctRequests = 16

// Requests returns distinctRequests AdmissionReviews of pod, each with its
// own uid, named name. wantPatch says whether the webhook must inject it.
func Requests(name string, pod *corev1.Pod, wantPatch bool) ([]Request, error) {
	out := make([]Request, distinctRequests)
	for i := range out {
		uid := fmt.Sprintf("6c0f5e1a-3b2d-4c8e-9a7f-%012d", i)
		body, err := testfixture.Review(uid, pod)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[i] = Request{Name: name, UID: uid, Body: body, WantPatch: wantPatch}
	}
	return out, nil
}
