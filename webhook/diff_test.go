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

// canonicalOps writes operations as sorted JSON strings, each value decoded
// and encoded again (numbers as written), so that diffDocuments' values (b's
// bytes) and jsonpatch's (decoded maps) compare as the JSON they stand for.
func canonicalOps(t testing.TB, ops []jsonpatch.Operation) []string {
	t.Helper()
	out := make([]string, len(ops))
	for i, op := range ops {
		if raw, ok := op.Value.(json.RawMessage); ok {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("operation %s has a value that is not JSON: %q", op.Path, raw)
			}
			op.Value = v
		}
		out[i] = op.Json()
	}
	slices.Sort(out)
	return out
}

func TestDiffDocumentsGivesCreatePatchsOperations(t *testing.T) {
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
		name string
		a, b string
		// wantOps, when set, is the exact operation list, in order.
		wantOps string
	}{
		{name: "a large object is compared member by member", a: many(100, `"x":1`), b: many(100, `"x":2`), wantOps: `[{"op":"replace","path":"/x","value":2}]`},
		{name: "a duplicate key in a large object is left to jsonpatch", a: many(100, `"k40":1`), b: many(100, `"x":2`)},
		{name: "identical documents give no operation", a: `{"a":1,"b":{"c":[1,2]}}`, b: `{"a":1,"b":{"c":[1,2]}}`, wantOps: `null`},
		{name: "a member added, removed and changed", a: `{"keep":1,"gone":2,"change":3}`, b: `{"keep":1,"change":4,"new":5}`,
			wantOps: `[{"op":"replace","path":"/change","value":4},{"op":"add","path":"/new","value":5},{"op":"remove","path":"/gone"}]`},
		{name: "nested objects are compared member by member", a: `{"m":{"x":{"y":1,"z":2}},"s":"t"}`, b: `{"m":{"x":{"y":1,"z":3}},"s":"t"}`,
			wantOps: `[{"op":"replace","path":"/m/x/z","value":3}]`},
		{name: "arrays are compared by position", a: `{"l":[{"a":1},{"b":2}]}`, b: `{"l":[{"a":1},{"b":3},{"c":4}]}`,
			wantOps: `[{"op":"add","path":"/l/2","value":{"c":4}},{"op":"replace","path":"/l/1/b","value":3}]`},
		{name: "a shorter array loses its last elements first", a: `[1,2,3,4]`, b: `[0,2]`,
			wantOps: `[{"op":"remove","path":"/3"},{"op":"remove","path":"/2"},{"op":"replace","path":"/0","value":0}]`},
		{name: "an object becoming a scalar", a: `{"o":{"a":1}}`, b: `{"o":7}`, wantOps: `[{"op":"replace","path":"/o","value":7}]`},
		{name: "a value becoming null and null becoming a value", a: `{"a":1,"b":null}`, b: `{"a":null,"b":[]}`},
		{name: "numbers compare as written", a: `{"n":1,"m":2}`, b: `{"n":1.0,"m":2}`, wantOps: `[{"op":"replace","path":"/n","value":1.0}]`},
		{name: "booleans and a change of type", a: `{"t":true,"f":false,"s":"1"}`, b: `{"t":false,"f":false,"s":1}`},
		{name: "strings compare as decoded", a: `{"a":"\u0041\n","b":"x"}`, b: `{"a":"A\u000a","b":"\u0078y"}`, wantOps: `[{"op":"replace","path":"/b","value":"\u0078y"}]`},
		{name: "strings with invalid UTF-8 decode alike", a: "{\"a\":\"\xff\",\"b\":\"\xfe\"}", b: "{\"a\":\"\xfe\",\"b\":\"x\"}"},
		{name: "keys with a slash and a tilde are escaped in paths", a: `{"a/b":{"c~d":1}}`, b: `{"a/b":{"c~d":2},"~":3}`,
			wantOps: `[{"op":"replace","path":"/a~1b/c~0d","value":2},{"op":"add","path":"/~0","value":3}]`},
		{name: "documents that are not objects", a: `[1,{"a":2}]`, b: `"s"`, wantOps: `[{"op":"replace","path":"","value":"s"}]`},
		{name: "whitespace and strings holding delimiters", a: "{ \"a\" : \"x,}]\\\"{\" ,\n\"b\":[1, {\"c\":\"]\"}] , \"n\": -1.5e3 }", b: `{"a":"x,}]\"{","b":[1,{"c":"]"}],"n":-1.5e3,"t":true}`,
			wantOps: `[{"op":"add","path":"/t","value":true}]`},
		{name: "an escaped key is left to jsonpatch", a: `{"o":{"\u0061":1,"b":2},"p":1}`, b: `{"o":{"a":1,"b":3},"p":2}`,
			wantOps: `[{"op":"replace","path":"/o/b","value":3},{"op":"replace","path":"/p","value":2}]`},
		{name: "a duplicate key is left to jsonpatch", a: `{"a":1,"a":2,"b":1}`, b: `{"a":2,"b":1}`, wantOps: `null`},
		{name: "keys that are not UTF-8 are left to jsonpatch", a: "{\"\xff\":1,\"\xfe\":2}", b: "{\"\xfd\":2}"},
		{name: "a typical pod and its injection", a: string(raw), b: string(injectedJSON(testConfig(nil)))},
		{name: "a typical pod and its injection as a regular container",
			a: string(raw), b: string(injectedJSON(testConfig(func(c *config.Config) { c.NativeSidecar = config.NativeSidecarNever })))},
		{name: "an indented pod and its injection", a: pretty.String(), b: string(injectedJSON(testConfig(nil)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := []byte(tt.a), []byte(tt.b)
			want, err := jsonpatch.CreatePatch(a, b)
			if err != nil {
				t.Fatalf("CreatePatch: %v", err)
			}
			got, err := diffDocuments(a, b)
			if err != nil {
				t.Fatalf("diffDocuments: %v", err)
			}
			if diff := cmp.Diff(canonicalOps(t, want), canonicalOps(t, got)); diff != "" {
				t.Errorf("operations (-CreatePatch +diffDocuments):\n%s", diff)
			}
			if tt.wantOps != "" {
				encoded, err := json.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				if string(encoded) != tt.wantOps {
					t.Errorf("patch = %s, want %s", encoded, tt.wantOps)
				}
			}
		})
	}
}

func TestDiffDocumentsNeverDecodesTheUntouchedContainersOfALargePod(t *testing.T) {
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
	var ops []jsonpatch.Operation
	allocs := testing.AllocsPerRun(3, func() {
		if ops, err = diffDocuments(raw, b); err != nil {
			t.Fatal(err)
		}
	})
	// Decoding the 2,000 env vars alone would take thousands of allocations.
	if allocs > 200 {
		t.Errorf("diffing a large pod (%d bytes) and its injection took %.0f allocations; want the untouched containers compared as bytes", len(raw), allocs)
	}
	want, err := jsonpatch.CreatePatch(raw, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(canonicalOps(t, want), canonicalOps(t, ops)); diff != "" {
		t.Errorf("operations (-CreatePatch +diffDocuments):\n%s", diff)
	}
}

func FuzzDiffDocuments(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,2]}}`), []byte(`{"a":1,"b":{"c":[1,3]},"d":null}`))
	f.Add([]byte(`{"a":{"b":{}},"c":"x"}`), []byte(`{"a":{"b":{"c":1}}}`))
	f.Add([]byte(`{"\u0061":1}`), []byte(`{"a":2}`))
	f.Add([]byte(`{"a":1,"a":2}`), []byte(`{"a":1}`))
	f.Add([]byte(`{"a":"}"`), []byte(`{`))
	f.Add([]byte(`[1,"\u00e9",[true]]`), []byte(`[1,"é",[false],null]`))
	f.Add([]byte("{\"\xff\":\"\xfe\"}"), []byte(`{"\ufffd":"\ufffd"}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		got, errGot := diffDocuments(a, b) // must not panic on anything
		if !json.Valid(a) || !json.Valid(b) {
			return
		}
		want, errWant := jsonpatch.CreatePatch(a, b)
		if (errWant == nil) != (errGot == nil) {
			t.Fatalf("CreatePatch error %v, diffDocuments error %v", errWant, errGot)
		}
		if errWant != nil {
			return
		}
		if diff := cmp.Diff(canonicalOps(t, want), canonicalOps(t, got)); diff != "" {
			t.Fatalf("patch of %s -> %s (-CreatePatch +diffDocuments):\n%s", a, b, diff)
		}
	})
}
