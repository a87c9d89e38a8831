package webhook

import (
	"encoding/json"
	"testing"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
)

func TestEncodePatchWritesWhatEncodingJSONWould(t *testing.T) {
	tests := []struct {
		name string
		ops  []jsonpatch.Operation
	}{
		{name: "no operation", ops: []jsonpatch.Operation{}},
		{name: "an add, a replace and a remove", ops: []jsonpatch.Operation{
			{Operation: "add", Path: "/metadata/annotations", Value: json.RawMessage(`{"a":"b"}`)},
			{Operation: "replace", Path: "/spec/containers/0/image", Value: json.RawMessage(`"x:1"`)},
			{Operation: "remove", Path: "/spec/x"},
		}},
		{name: "an add and a replace of nothing write null", ops: []jsonpatch.Operation{
			{Operation: "add", Path: "/a"}, {Operation: "replace", Path: "/b"},
		}},
		{name: "paths that need escapes", ops: []jsonpatch.Operation{
			{Operation: "add", Path: "/metadata/annotations/a\"b\\c", Value: json.RawMessage(`1`)},
			{Operation: "add", Path: "/metadata/labels/<&>\u2028\x01é", Value: json.RawMessage(`null`)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.ops)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodePatch(tt.ops)
			if err != nil {
				t.Fatalf("encodePatch: %v", err)
			}
			if string(got) != string(want) {
				t.Errorf("encodePatch = %s\nwant            %s", got, want)
			}
		})
	}
}

func TestEncodePatchRefusesADecodedValue(t *testing.T) {
	_, err := encodePatch([]jsonpatch.Operation{{Operation: "add", Path: "/a", Value: map[string]any{"b": 1}}})
	if err == nil {
		t.Fatal("encodePatch wrote a value that is not encoded JSON")
	}
}
