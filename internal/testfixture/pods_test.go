package testfixture

import (
	"encoding/json"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

// testVersion stands in for version.Version.
const testVersion = "v0.0.0-test"

// envCount counts the env vars of every container of pod.
func envCount(pod *corev1.Pod) int {
	n := 0
	for _, c := range pod.Spec.Containers {
		n += len(c.Env)
	}
	return n
}

func TestPodsHaveTheSizesTheIssueNames(t *testing.T) {
	typical, large := TypicalPod("shop"), LargePod("shop")
	if got := len(typical.Spec.Containers); got != 2 {
		t.Errorf("typical pod: %d containers, want 2", got)
	}
	if got := envCount(typical); got != 20 {
		t.Errorf("typical pod: %d env vars, want 20", got)
	}
	if got := len(large.Spec.Containers); got != 20 {
		t.Errorf("large pod: %d containers, want 20", got)
	}
	if got := envCount(large); got != 2000 {
		t.Errorf("large pod: %d env vars, want 2000", got)
	}
	raw, err := json.Marshal(large)
	if err != nil {
		t.Fatal(err)
	}
	if size := float64(len(raw)); size < 0.95*LargeTargetBytes || size > 1.05*LargeTargetBytes {
		t.Errorf("large pod: %.0f bytes encoded, want 1 MiB ± 5%%", size)
	}
}

func TestInjectedPodCarriesTheStatus(t *testing.T) {
	pod, err := InjectedPod("shop", testVersion)
	if err != nil {
		t.Fatal(err)
	}
	if pod.Annotations[config.AnnotationStatus] == "" {
		t.Errorf("injected pod has no %s annotation", config.AnnotationStatus)
	}
	if got, want := len(pod.Spec.InitContainers)+len(pod.Spec.Containers), 3; got != want {
		t.Errorf("injected pod has %d containers in all, want %d (two and the sidecar)", got, want)
	}
}

func TestReviewIsAPodCreate(t *testing.T) {
	body, err := Review("uid-1", TypicalPod("shop"))
	if err != nil {
		t.Fatal(err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		t.Fatal(err)
	}
	r := review.Request
	if review.Kind != "AdmissionReview" || r.UID != "uid-1" || r.Operation != admissionv1.Create || r.Kind.Kind != "Pod" ||
		r.Resource.Resource != "pods" || r.Namespace != "shop" || len(r.Object.Raw) == 0 {
		t.Errorf("review %s %+v: want a CREATE of a pod in shop with uid-1 and the object", review.Kind, r)
	}
	var pod corev1.Pod
	if err := json.Unmarshal(r.Object.Raw, &pod); err != nil || pod.GenerateName != "web-7d9f8b6c5-" {
		t.Errorf("object: %v, generateName %q", err, pod.GenerateName)
	}
}
