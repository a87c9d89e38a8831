package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/config"
)

// FuzzInjectStream feeds arbitrary text (YAML, JSON, Lists) as the input of
// `inject`: it never panics, and when it succeeds, injecting its output
// again changes nothing.
func FuzzInjectStream(f *testing.F) {
	app, err := os.ReadFile(filepath.Join("testdata", "app.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(app),
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, ports: [{containerPort: 9184}]}]}\n",
		"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {template: {spec: {containers: [{name: a}]}}}\n",
		"apiVersion: apps/v1\nkind: DaemonSet\nspec: {template: {metadata: {labels: {gopherscope.io/inject: disabled}}}}\n",
		"apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {hostNetwork: true, containers: [{name: a}]}}}\n",
		"apiVersion: apps/v1\nkind: ReplicaSet\nspec: null\n",
		"- a\n- b\n", "a: [\n", "---\n---\n", "kind: Pod\n",
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","command":["x&<y>"]}]}}` + "\n{\"kind\":\"Service\"}",
		"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, spec: {containers: [{name: a}]}}\n- {kind: Pod}\n",
		"{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [{\"apiVersion\": \"batch/v1\", \"kind\": \"Job\", \"spec\": {}}]\n}\n",
	} {
		f.Add([]byte(seed))
	}
	cfg := config.Default("v0.0.0-test")
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _, err := injectInputs([]input{{name: "fuzz", data: in}}, cfg)
		if err != nil {
			return
		}
		again, warnings, err := injectInputs([]input{{name: "fuzz", data: out}}, cfg)
		if err != nil {
			t.Fatalf("the output of a successful run fails: %v\ninput:\n%s\noutput:\n%s", err, in, out)
		}
		if diff := cmp.Diff(string(out), string(again)); diff != "" {
			t.Fatalf("a second pass changed the output (-first +second):\n%s\nwarnings: %q", diff, warnings)
		}
	})
}
