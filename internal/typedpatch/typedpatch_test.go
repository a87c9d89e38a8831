package typedpatch

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestApplyPatchesTheDocumentAndKeepsWhatTheTypesDoNotKnow(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		// want is the changed document; wantOps the patch, as op+path.
		want    string
		wantOps []string
	}{
		{
			name:    "the typed encoding itself",
			doc:     `{"metadata":{"name":"web"},"spec":{"containers":[{"name":"app","resources":{}}]},"status":{}}`,
			want:    `{"metadata":{"name":"web","annotations":{"k":"v"}},"spec":{"containers":[{"name":"app","resources":{}},{"name":"side","resources":{}}]},"status":{}}`,
			wantOps: []string{"add /metadata/annotations", "add /spec/containers/1"},
		},
		{
			name:    "unknown fields kept, empty fields not added",
			doc:     `{"metadata":{"name":"web"},"spec":{"containers":[{"name":"app","future":1}],"future":{"a":true}}}`,
			want:    `{"metadata":{"name":"web","annotations":{"k":"v"}},"spec":{"containers":[{"name":"app","future":1},{"name":"side","resources":{}}],"future":{"a":true}}}`,
			wantOps: []string{"add /metadata/annotations", "add /spec/containers/1"},
		},
		{
			name:    "missing metadata is created",
			doc:     `{"spec":{"containers":[{"name":"app"}]}}`,
			want:    `{"metadata":{"annotations":{"k":"v"}},"spec":{"containers":[{"name":"app"},{"name":"side","resources":{}}]}}`,
			wantOps: []string{"add /metadata", "add /spec/containers/1"},
		},
		{
			name:    "null metadata is replaced",
			doc:     `{"metadata":null,"spec":{"containers":[{"name":"app"}]}}`,
			want:    `{"metadata":{"annotations":{"k":"v"}},"spec":{"containers":[{"name":"app"},{"name":"side","resources":{}}]}}`,
			wantOps: []string{"replace /metadata", "add /spec/containers/1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{}
			if err := json.Unmarshal([]byte(tt.doc), pod); err != nil {
				t.Fatal(err)
			}
			before := mustMarshal(t, pod)
			pod.Annotations = map[string]string{"k": "v"}
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "side"})
			after := mustMarshal(t, pod)

			changed, ops, err := Apply([]byte(tt.doc), before, after)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if diff := cmp.Diff(decode(t, []byte(tt.want)), decode(t, changed)); diff != "" {
				t.Errorf("changed document (-want +got):\n%s", diff)
			}
			var got []string
			for _, op := range ops {
				got = append(got, op.Operation+" "+op.Path)
			}
			if diff := cmp.Diff(tt.wantOps, got); diff != "" {
				t.Errorf("operations (-want +got):\n%s", diff)
			}
			checkApplies(t, tt.doc, tt.want, mustMarshal(t, ops))
		})
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decode(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}
