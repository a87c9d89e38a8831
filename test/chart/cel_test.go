package chart_test

import (
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/gopherscope/gopherscope/config"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
)

// TestMatchConditionSkipsPodsAnnotatedOut compiles each webhook entry's matchConditions with
// CEL, as the API server does (object is the pod as JSON), and evaluates them on pods.
func TestMatchConditionSkipsPodsAnnotatedOut(t *testing.T) {
	env, err := cel.NewEnv(cel.Variable("object", cel.DynType))
	if err != nil {
		t.Fatal(err)
	}
	pod := func(annotations map[string]any) map[string]any {
		meta := map[string]any{"name": "p"}
		if annotations != nil {
			meta["annotations"] = annotations
		}
		return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta}
	}
	tests := []struct {
		name string
		pod  map[string]any
		want bool
	}{
		{name: "a pod without annotations is sent", pod: pod(nil), want: true},
		{name: "a pod with other annotations is sent", pod: pod(map[string]any{"team": "a"}), want: true},
		{name: `a pod annotated "false" is skipped`, pod: pod(map[string]any{config.KeyInject: config.InjectAnnotationFalse}), want: false},
		{name: `a pod annotated "true" is sent`, pod: pod(map[string]any{config.KeyInject: "true"}), want: true},
		{name: `a pod annotated "False" is sent (the handler decides)`, pod: pod(map[string]any{config.KeyInject: "False"}), want: true},
	}
	got := get[*admissionregistrationv1.MutatingWebhookConfiguration](t, render(t, nil), fullname)
	for _, w := range got.Webhooks {
		if len(w.MatchConditions) != 1 {
			t.Fatalf("webhook %s has %d matchConditions, want 1", w.Name, len(w.MatchConditions))
		}
		ast, issues := env.Compile(w.MatchConditions[0].Expression)
		if issues.Err() != nil {
			t.Fatalf("webhook %s: compile %q: %v", w.Name, w.MatchConditions[0].Expression, issues.Err())
		}
		if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
			t.Fatalf("webhook %s: expression yields %v, want bool", w.Name, ast.OutputType())
		}
		program, err := env.Program(ast)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range tests {
			t.Run(w.Name+"/"+tc.name, func(t *testing.T) {
				out, _, err := program.Eval(map[string]any{"object": tc.pod})
				if err != nil {
					t.Fatalf("evaluate: %v", err)
				}
				if out.Value() != tc.want {
					t.Errorf("matchCondition = %v, want %v", out.Value(), tc.want)
				}
			})
		}
	}
}
