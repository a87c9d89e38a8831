package webhook

import (
	"encoding/json"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// typedPodJSON is a pod encoded from the API types, as an API server of the
// same version sends it.
func typedPodJSON(b *testing.B, envVars int) []byte {
	b.Helper()
	env := make([]corev1.EnvVar, envVars)
	for i := range env {
		env[i] = corev1.EnvVar{Name: fmt.Sprintf("VAR_%d", i), Value: fmt.Sprintf("value-%d", i)}
	}
	pod := corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{GenerateName: "web-7d9f-", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "example.com/web:1.0", Env: env,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
		}}},
	}
	data, err := json.Marshal(pod)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkHandle measures one admission decision in the handler (decode,
// namespace lookup, injection, diff), without HTTP.
func BenchmarkHandle(b *testing.B) {
	for _, bc := range []struct {
		name string
		raw  []byte
	}{
		{name: "typical pod", raw: typedPodJSON(b, 5)},
		{name: "pod with 2000 env vars", raw: typedPodJSON(b, 2000)},
		{name: "pod from a newer API server", raw: podJSON(nil, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := &PodInjector{Config: NewConfigProvider(testConfig(nil)), Namespaces: testNamespaces}
			req := admission.Request{AdmissionRequest: podRequest("shop", bc.raw)}
			b.ReportAllocs()
			for b.Loop() {
				if resp := h.Handle(b.Context(), req); len(resp.Patch) == 0 {
					b.Fatalf("no patch: %+v", resp.Result)
				}
			}
		})
	}
}
