package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	jsonpatch "gomodules.xyz/jsonpatch/v2"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/injector"
)

// patchOps diffs a and b, pruned or whole, as a sorted list of operations.
func patchOps(t testing.TB, a, b []byte, prune bool) []string {
	t.Helper()
	if prune {
		a, b = pruneEqualMembers(a, b)
	}
	ops, err := jsonpatch.CreatePatch(a, b)
	if err != nil {
		t.Fatalf("CreatePatch(%s, %s): %v", a, b, err)
	}
	out := make([]string, len(ops))
	for i, op := range ops {
		out[i] = op.Json()
	}
	slices.Sort(out)
	return out
}

func TestPruningKeepsThePatch(t *testing.T) {
	pod := loadgen.TypicalPod(benchNamespace)
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	enabled := injector.Namespace{Name: benchNamespace, Labels: map[string]string{config.KeyInject: config.InjectEnabled}}
	injectedJSON := func(cfg *config.Config) []byte {
		injected, _, d := injector.Inject(pod, enabled, cfg)
		if d.Action != injector.ActionInject {
			t.Fatalf("decision %+v", d)
		}
		b, err := json.Marshal(injected)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	// many builds an object of n members "k0".."k<n-1>" (values equal to
	// the index), then appends extra.
	many := func(n int, extra string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, `"k%d":%d,`, i, i)
		}
		b.WriteString(extra + "}")
		return b.String()
	}
	tests := []struct {
		name       string
		a, b       string
		wantPruned string // the pruned a, when it is worth checking
	}{
		{name: "a large object is pruned member by member", a: many(100, `"x":1`), b: many(100, `"x":2`), wantPruned: `{"x":1}`},
		{name: "a duplicate key in a large object is not pruned", a: many(100, `"k40":1`), b: many(100, `"x":2`), wantPruned: many(100, `"k40":1`)},
		{name: "identical documents prune to empty objects", a: `{"a":1,"b":{"c":[1,2]}}`, b: `{"a":1,"b":{"c":[1,2]}}`, wantPruned: `{}`},
		{name: "a member added, removed and changed", a: `{"keep":1,"gone":2,"change":3}`, b: `{"keep":1,"change":4,"new":5}`, wantPruned: `{"gone":2,"change":3}`},
		{name: "nested objects are pruned member by member", a: `{"m":{"x":{"y":1,"z":2}},"s":"t"}`, b: `{"m":{"x":{"y":1,"z":3}},"s":"t"}`, wantPruned: `{"m":{"x":{"z":2}}}`},
		{name: "arrays are diffed whole, never pruned inside", a: `{"l":[{"a":1},{"b":2}]}`, b: `{"l":[{"a":1},{"b":3},{"c":4}]}`, wantPruned: `{"l":[{"a":1},{"b":2}]}`},
		{name: "an object becoming a scalar", a: `{"o":{"a":1}}`, b: `{"o":7}`},
		{name: "whitespace and strings holding delimiters", a: "{ \"a\" : \"x,}]\\\"{\" ,\n\"b\":[1, {\"c\":\"]\"}] , \"n\": -1.5e3 }", b: `{"a":"x,}]\"{","b":[1,{"c":"]"}],"n":-1.5e3,"t":true}`},
		{name: "an escaped key is not pruned", a: `{"\u0061":1,"b":2}`, b: `{"a":1,"b":3}`, wantPruned: `{"\u0061":1,"b":2}`},
		{name: "a duplicate key is not pruned", a: `{"a":1,"a":2,"b":1}`, b: `{"a":2,"b":1}`, wantPruned: `{"a":1,"a":2,"b":1}`},
		{name: "a typical pod and its injection", a: string(raw), b: string(injectedJSON(testConfig(nil)))},
		{name: "a typical pod and its injection as a regular container",
			a: string(raw), b: string(injectedJSON(testConfig(func(c *config.Config) { c.NativeSidecar = config.NativeSidecarNever })))},
		{name: "an indented pod and its injection", a: pretty.String(), b: string(injectedJSON(testConfig(nil)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := []byte(tt.a), []byte(tt.b)
			if diff := cmp.Diff(patchOps(t, a, b, false), patchOps(t, a, b, true)); diff != "" {
				t.Errorf("patch of pruned documents (-whole +pruned):\n%s", diff)
			}
			if tt.wantPruned != "" {
				if got, _ := pruneEqualMembers(a, b); string(got) != tt.wantPruned {
					t.Errorf("pruned a = %s, want %s", got, tt.wantPruned)
				}
			}
		})
	}
}

func TestPruningShrinksAnInjectedLargePod(t *testing.T) {
	pod := loadgen.LargePod(benchNamespace)
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	injected, _, _ := injector.Inject(pod, injector.Namespace{Name: benchNamespace, Labels: map[string]string{config.KeyInject: config.InjectEnabled}}, testConfig(nil))
	b, err := json.Marshal(injected)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := pruneEqualMembers(raw, b)
	// The 2,000 env vars are in containers the native sidecar leaves alone.
	if len(pa) > 1024 || len(pb) > 4096 {
		t.Errorf("pruned a large pod (%d bytes) to %d and its injection (%d) to %d bytes; want the untouched containers gone", len(raw), len(pa), len(b), len(pb))
	}
}

func FuzzPruneEqualMembers(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,2]}}`), []byte(`{"a":1,"b":{"c":[1,3]},"d":null}`))
	f.Add([]byte(`{"a":{"b":{}},"c":"x"}`), []byte(`{"a":{"b":{"c":1}}}`))
	f.Add([]byte(`{"\u0061":1}`), []byte(`{"a":2}`))
	f.Add([]byte(`{"a":1,"a":2}`), []byte(`{"a":1}`))
	f.Add([]byte(`{"a":"}"`), []byte(`{`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		pa, pb := pruneEqualMembers(a, b) // must not panic on anything
		if !isJSONObject(a) || !isJSONObject(b) {
			return
		}
		if !json.Valid(pa) || !json.Valid(pb) {
			t.Fatalf("pruning valid objects %s and %s gave invalid JSON %s and %s", a, b, pa, pb)
		}
		whole, errWhole := jsonpatch.CreatePatch(a, b)
		pruned, errPruned := jsonpatch.CreatePatch(pa, pb)
		if (errWhole == nil) != (errPruned == nil) {
			t.Fatalf("CreatePatch: whole %v, pruned %v", errWhole, errPruned)
		}
		if errWhole != nil {
			return
		}
		sorted := func(ops []jsonpatch.Operation) []string {
			var out []string
			for _, op := range ops {
				out = append(out, op.Json())
			}
			slices.Sort(out)
			return out
		}
		if diff := cmp.Diff(sorted(whole), sorted(pruned)); diff != "" {
			t.Fatalf("patch of %s -> %s changed by pruning (-whole +pruned):\n%s", a, b, diff)
		}
	})
}

// isJSONObject reports whether data is one valid JSON object.
func isJSONObject(data []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(data, &m) == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
}
