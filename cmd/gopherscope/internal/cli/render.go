package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	"sigs.k8s.io/yaml"
)

// render applies the injection's operations to a document, given as its
// text (body) and its JSON form (doc), and returns the new text.
//
// The operations are applied to the JSON form, which always works and is
// the reference. A JSON document is written from it, with its keys in the
// user's order (what we add comes after) and the user's indentation. A YAML
// document is patched in its YAML tree instead (see patchYAML), which keeps
// comments, key order and quoting, when that gives exactly the reference's
// data; otherwise the reference is rendered as YAML (sorted keys, only the
// comments at the top kept).
func render(body, doc []byte, ops []jsonpatch.Operation, isJSON bool) ([]byte, error) {
	encoded, err := json.Marshal(ops)
	if err != nil {
		return nil, fmt.Errorf("encode the injection: %w", err)
	}
	patch, err := jsonpatch5.DecodePatch(encoded)
	if err != nil {
		return nil, fmt.Errorf("decode the injection: %w", err)
	}
	patched, err := patch.Apply(doc)
	if err != nil {
		return nil, fmt.Errorf("apply the injection: %w", err)
	}
	if isJSON {
		return formatJSON(unescapeHTML(patched), indentOf(body))
	}
	reference, err := yaml.JSONToYAML(patched)
	if err != nil {
		return nil, fmt.Errorf("render YAML: %w", err)
	}
	if kept, err := patchYAML(body, ops); err == nil && sameContent(kept, reference) {
		return kept, nil
	}
	return append(bytes.Clone(leadingComments(body)), reference...), nil
}

// formatJSON writes data compact when indent is empty, else indented by it.
func formatJSON(data []byte, indent string) ([]byte, error) {
	var out bytes.Buffer
	var err error
	if indent == "" {
		err = json.Compact(&out, data)
	} else {
		err = json.Indent(&out, data, "", indent)
	}
	if err != nil {
		return nil, fmt.Errorf("render JSON: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// unescapeHTML turns the escapes json.Marshal writes for <, > and & back
// into the characters, so that the user's strings read as they wrote them.
// Other escapes, an escaped backslash included, are kept as they are.
func unescapeHTML(data []byte) []byte {
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' || i+1 == len(data) {
			out = append(out, data[i])
			continue
		}
		if data[i+1] == 'u' && i+6 <= len(data) {
			switch strings.ToLower(string(data[i+2 : i+6])) {
			case "003c":
				out, i = append(out, '<'), i+5
				continue
			case "003e":
				out, i = append(out, '>'), i+5
				continue
			case "0026":
				out, i = append(out, '&'), i+5
				continue
			}
		}
		out, i = append(out, data[i], data[i+1]), i+1
	}
	return out
}

// indentOf is the indentation of a JSON document's first indented line
// (kubectl's four spaces when it has none but spans lines), or "" for a
// document on one line.
func indentOf(body []byte) string {
	trimmed := bytes.TrimSpace(body)
	i := bytes.IndexByte(trimmed, '\n')
	if i < 0 {
		return ""
	}
	line := trimmed[i+1:]
	n := 0
	for n < len(line) && (line[n] == ' ' || line[n] == '\t') {
		n++
	}
	if n == 0 {
		return "    "
	}
	return string(line[:n])
}

// jsonDocument is one JSON value of an input, with the line it starts on.
type jsonDocument struct {
	raw  []byte
	line int
}

// splitJSON splits an input that starts with "{" into its JSON values, as
// kubectl reads a JSON stream. It reports false, with no documents, for
// any other input (YAML, which may hold JSON documents of its own).
func splitJSON(data []byte) ([]jsonDocument, bool) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []jsonDocument
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		end := int(dec.InputOffset())
		start := end - len(raw)
		docs = append(docs, jsonDocument{raw: data[start:end], line: 1 + bytes.Count(data[:start], []byte("\n"))})
	}
	if len(bytes.TrimSpace(data[dec.InputOffset():])) > 0 {
		return nil, false // not JSON all through ("{} ]"): read as YAML, which reports it
	}
	return docs, true
}
