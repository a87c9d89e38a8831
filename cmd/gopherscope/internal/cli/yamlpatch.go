package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/internal/typedpatch"
)

// patchYAML applies the injection's patch operations to the document's
// YAML tree rather than to its JSON form, so the rewritten document keeps
// its comments, key order and quoting; only the added parts are new. It
// handles "add" and "replace" (all the injector produces) and refuses what
// it cannot do faithfully (an alias on the way, a remove): the caller then
// falls back to the JSON rendering.
func patchYAML(body []byte, ops []jsonpatch.Operation) ([]byte, error) {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if doc.Kind != yamlv3.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yamlv3.MappingNode {
		return nil, errors.New("not a single YAML mapping")
	}
	sorted := slices.Clone(ops)
	typedpatch.Sort(sorted)
	for _, op := range sorted {
		if op.Operation != "add" && op.Operation != "replace" {
			return nil, fmt.Errorf("operation %s is not supported", op.Operation)
		}
		value, err := valueNode(op.Value)
		if err != nil {
			return nil, err
		}
		if err := setNode(doc.Content[0], pointerTokens(op.Path), value); err != nil {
			return nil, fmt.Errorf("%s %s: %w", op.Operation, op.Path, err)
		}
	}
	var out bytes.Buffer
	enc := yamlv3.NewEncoder(&out)
	enc.SetIndent(2)
	if compactSequences(body) {
		enc.CompactSeqIndent()
	}
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return out.Bytes(), nil
}

// setNode sets the value at path under node, creating missing mappings on
// the way (as an "add" to a missing parent would need), in block style.
func setNode(node *yamlv3.Node, path []string, value *yamlv3.Node) error {
	if len(path) == 0 {
		return errors.New("the root cannot be replaced")
	}
	for {
		if node.Kind == yamlv3.AliasNode {
			return errors.New("an alias is on the path; changing its anchor would change other places")
		}
		// What we add is written in block style, which a flow collection
		// cannot hold: the collections on the path become block ones (their
		// other children keep their style).
		node.Style &^= yamlv3.FlowStyle
		key, rest := path[0], path[1:]
		switch node.Kind {
		case yamlv3.MappingNode:
			i := mappingIndex(node, key)
			if len(rest) == 0 {
				if i >= 0 {
					node.Content[i+1] = value
				} else {
					node.Content = append(node.Content, &yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!str", Value: key}, value)
				}
				return nil
			}
			if i < 0 {
				node.Content = append(node.Content, &yamlv3.Node{Kind: yamlv3.ScalarNode, Tag: "!!str", Value: key},
					&yamlv3.Node{Kind: yamlv3.MappingNode, Tag: "!!map"})
				i = len(node.Content) - 2
			}
			keepLineComment(node.Content[i], node.Content[i+1])
			node = node.Content[i+1]
		case yamlv3.SequenceNode:
			i, err := sequenceIndex(node, key, len(rest) == 0)
			if err != nil {
				return err
			}
			if len(rest) == 0 {
				node.Content = append(node.Content[:i], append([]*yamlv3.Node{value}, node.Content[i:]...)...)
				return nil
			}
			node = node.Content[i]
		default:
			return fmt.Errorf("cannot descend into a scalar at %q", key)
		}
		path = rest
	}
}

// keepLineComment moves the comment at the end of a flow collection's line
// to its key before the collection becomes a block one, where the encoder
// would write it on the line of the next key instead.
func keepLineComment(key, value *yamlv3.Node) {
	if value.Style&yamlv3.FlowStyle != 0 && value.LineComment != "" && key.LineComment == "" {
		key.LineComment, value.LineComment = value.LineComment, ""
	}
}

// mappingIndex is the index of key's key node in a mapping's Content, or -1.
func mappingIndex(node *yamlv3.Node, key string) int {
	for i := 0; i+1 < len(node.Content); i += 2 {
		if k := node.Content[i]; k.Kind == yamlv3.ScalarNode && k.Value == key {
			return i
		}
	}
	return -1
}

// sequenceIndex parses an array token; "-" and the length are valid only
// where an element is inserted.
func sequenceIndex(node *yamlv3.Node, token string, inserting bool) (int, error) {
	if token == "-" && inserting {
		return len(node.Content), nil
	}
	i, err := strconv.Atoi(token)
	limit := len(node.Content)
	if inserting {
		limit++
	}
	if err != nil || i < 0 || i >= limit {
		return 0, fmt.Errorf("index %q is out of range", token)
	}
	return i, nil
}

// pointerTokens splits a JSON pointer into its unescaped tokens.
func pointerTokens(path string) []string {
	tokens := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return tokens
}

// valueNode turns a patch value into YAML nodes in block style; the encoder
// quotes strings that would otherwise read as numbers or booleans.
func valueNode(v any) (*yamlv3.Node, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode a patch value: %w", err)
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return nil, fmt.Errorf("convert a patch value: %w", err)
	}
	clearStyle(doc.Content[0])
	return doc.Content[0], nil
}

func clearStyle(n *yamlv3.Node) {
	n.Style = 0
	for _, c := range n.Content {
		clearStyle(c)
	}
}

// compactSeqLine finds a sequence item directly under a mapping key at the
// same indentation ("containers:\n- name: app"), kubectl's style.
var compactSeqLine = regexp.MustCompile(`(?m)^( *)[^ #\n-][^\n]*:[ \t]*\n( *#[^\n]*\n)*( *)- `)

// compactSequences reports whether the document writes sequence items at
// their key's indentation, so the rewrite keeps that style.
func compactSequences(body []byte) bool {
	for _, m := range compactSeqLine.FindAllSubmatch(body, -1) {
		if len(m[1]) == len(m[3]) {
			return true
		}
	}
	return false
}

// sameContent reports whether two YAML documents hold the same data.
func sameContent(a, b []byte) bool {
	var av, bv any
	aj, err := yaml.YAMLToJSON(a)
	if err != nil {
		return false
	}
	bj, err := yaml.YAMLToJSON(b)
	if err != nil {
		return false
	}
	if json.Unmarshal(aj, &av) != nil || json.Unmarshal(bj, &bv) != nil {
		return false
	}
	return reflect.DeepEqual(av, bv)
}
