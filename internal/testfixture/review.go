package testfixture

import (
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Review encodes pod in an AdmissionReview for its CREATE, as the API
// server sends it to a mutating webhook.
func Review(uid string, pod *corev1.Pod) ([]byte, error) {
	raw, err := json.Marshal(pod)
	if err != nil {
		return nil, fmt.Errorf("encode pod: %w", err)
	}
	opts, err := json.Marshal(metav1.CreateOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "CreateOptions"}})
	if err != nil {
		return nil, fmt.Errorf("encode create options: %w", err)
	}
	podKind := metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	podResource := metav1.GroupVersionResource{Version: "v1", Resource: "pods"}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:             types.UID(uid),
			Kind:            podKind,
			Resource:        podResource,
			RequestKind:     &podKind,
			RequestResource: &podResource,
			Namespace:       pod.Namespace,
			Operation:       admissionv1.Create,
			UserInfo: authenticationv1.UserInfo{
				Username: "system:serviceaccount:kube-system:replicaset-controller",
				UID:      "5b0c3c8e-1f3a-4d8e-9f0a-2c1d7e6b9a10",
				Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"},
			},
			Object:  runtime.RawExtension{Raw: raw},
			DryRun:  ptr.To(false),
			Options: runtime.RawExtension{Raw: opts},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return nil, fmt.Errorf("encode admission review: %w", err)
	}
	return body, nil
}
