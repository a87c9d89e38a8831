package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
)

func TestPatchYAML(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		ops     []jsonpatch.Operation
		want    string
		wantErr bool
	}{
		{
			name: "keys are appended after the existing ones, comments kept",
			in:   "# top\nmetadata:\n  name: web # the name\n  annotations:\n    b: \"1\"\n",
			ops: []jsonpatch.Operation{
				jsonpatch.NewOperation("add", "/metadata/annotations/prometheus.io~1port", "9184"),
				jsonpatch.NewOperation("add", "/metadata/annotations/a", "true"),
			},
			want: "# top\nmetadata:\n  name: web # the name\n  annotations:\n    b: \"1\"\n    a: \"true\"\n    prometheus.io/port: \"9184\"\n",
		},
		{
			name: "a missing parent mapping is created",
			in:   "metadata:\n  name: web\n",
			ops:  []jsonpatch.Operation{jsonpatch.NewOperation("add", "/metadata/annotations", map[string]any{"k": "v"})},
			want: "metadata:\n  name: web\n  annotations:\n    k: v\n",
		},
		{
			name: "elements are appended to a compact sequence in its style",
			in:   "spec:\n  containers:\n  - name: app\n",
			ops:  []jsonpatch.Operation{jsonpatch.NewOperation("add", "/spec/containers/1", map[string]any{"name": "sidecar", "ports": []any{9184}})},
			want: "spec:\n  containers:\n  - name: app\n  - name: sidecar\n    ports:\n    - 9184\n",
		},
		{
			name: "indented sequences stay indented",
			in:   "spec:\n  containers:\n    - name: app\n",
			ops:  []jsonpatch.Operation{jsonpatch.NewOperation("add", "/spec/containers/-", map[string]any{"name": "sidecar"})},
			want: "spec:\n  containers:\n    - name: app\n    - name: sidecar\n",
		},
		{
			name: "flow collections on the path become block ones, their other children and line comment kept",
			in:   "spec: {containers: [{name: app}]}   # the spec\n",
			ops:  []jsonpatch.Operation{jsonpatch.NewOperation("add", "/spec/initContainers", []any{map[string]any{"name": "sidecar"}})},
			want: "spec: # the spec\n  containers: [{name: app}]\n  initContainers:\n    - name: sidecar\n",
		},
		{
			name: "an element added to a flow sequence makes it a block one",
			in:   "containers: [{name: app}]\n",
			ops:  []jsonpatch.Operation{jsonpatch.NewOperation("add", "/containers/1", map[string]any{"name": "sidecar"})},
			want: "containers:\n  - {name: app}\n  - name: sidecar\n",
		},
		{
			name:    "an alias on the path is refused",
			in:      "base: &m {a: b}\nmetadata: *m\n",
			ops:     []jsonpatch.Operation{jsonpatch.NewOperation("add", "/metadata/c", "d")},
			wantErr: true,
		},
		{
			name:    "a remove is refused",
			in:      "a: b\n",
			ops:     []jsonpatch.Operation{jsonpatch.NewOperation("remove", "/a", nil)},
			wantErr: true,
		},
		{
			name:    "an index beyond the end is refused",
			in:      "a: [x]\n",
			ops:     []jsonpatch.Operation{jsonpatch.NewOperation("add", "/a/5", "y")},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := patchYAML([]byte(tt.in), tt.ops)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInjectFallsBackToJSONRenderingForAliases(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nx-shared: &meta\n  name: p\n  labels: {app: web}\nmetadata: *meta\nspec:\n  containers: [{name: app, image: x}]\n"
	code, stdout, stderr := run(t, in, "inject", "-f", "-")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	var got map[string]any
	mustUnmarshal(t, []byte(stdout), &got)
	meta := got["metadata"].(map[string]any)
	if meta["name"] != "p" || meta["annotations"] == nil {
		t.Errorf("metadata = %v, want the pod's name with the injection's annotations", meta)
	}
	if shared := got["x-shared"].(map[string]any); shared["annotations"] != nil {
		t.Errorf("the anchor's other use was changed: %v", shared)
	}
}
