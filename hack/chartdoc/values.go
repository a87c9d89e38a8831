package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Value is one documented value of a chart: a row of the README's values table.
type Value struct {
	// Key is the dotted path of the value, e.g. "image.tag".
	Key string
	// Type is the value's type: string, int, float, bool, list or object.
	Type string
	// Default is the default as shown in the table, JSON in backticks unless overridden.
	Default string
	// Description is the text of the `# --` comment, on one line.
	Description string
}

// typeOverride matches the "(type) " prefix of a description.
var typeOverride = regexp.MustCompile(`^\(([a-z]+)\)\s*`)

// ParseValues returns the documented values of a values.yaml document, in file order, or
// an error naming every value that has no `# --` description.
func ParseValues(data []byte) ([]Value, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse values: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse values: the document is a %s, not a mapping", kindName(root.Kind))
	}
	var (
		values       []Value
		undocumented []string
	)
	var walk func(prefix string, m *yaml.Node) error
	walk = func(prefix string, m *yaml.Node) error {
		for i := 0; i+1 < len(m.Content); i += 2 {
			keyNode, valueNode := m.Content[i], m.Content[i+1]
			key := prefix + keyNode.Value
			desc, def, ok := parseComment(keyNode.HeadComment)
			if !ok {
				if valueNode.Kind == yaml.MappingNode && len(valueNode.Content) > 0 {
					if err := walk(key+".", valueNode); err != nil {
						return err
					}
					continue
				}
				undocumented = append(undocumented, key)
				continue
			}
			v := Value{Key: key, Type: inferType(valueNode), Description: desc}
			if match := typeOverride.FindStringSubmatch(desc); match != nil {
				v.Type = match[1]
				v.Description = desc[len(match[0]):]
			}
			if def != "" {
				v.Default = def
			} else {
				rendered, err := renderDefault(valueNode)
				if err != nil {
					return fmt.Errorf("value %s: %w", key, err)
				}
				v.Default = rendered
			}
			values = append(values, v)
		}
		return nil
	}
	if err := walk("", root); err != nil {
		return nil, err
	}
	if len(undocumented) > 0 {
		return nil, fmt.Errorf("values without a `# --` description: %s", strings.Join(undocumented, ", "))
	}
	return values, nil
}

// parseComment extracts the description and the @default override from a head comment.
// ok is false when no line starts with "# --".
func parseComment(comment string) (desc, def string, ok bool) {
	var parts []string
	for _, line := range strings.Split(comment, "\n") {
		line = strings.TrimSpace(line)
		text := strings.TrimSpace(strings.TrimPrefix(line, "#"))
		switch {
		case strings.HasPrefix(line, "# --"):
			ok = true
			parts = []string{strings.TrimSpace(strings.TrimPrefix(line, "# --"))}
		case !ok:
			// Comment lines before the description (section headers) are not part of it.
		case strings.HasPrefix(text, "@default --"):
			def = strings.TrimSpace(strings.TrimPrefix(text, "@default --"))
		case text != "":
			parts = append(parts, text)
		}
	}
	return strings.Join(parts, " "), def, ok
}

// inferType names the YAML type of a value node.
func inferType(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "object"
	}
	switch n.Tag {
	case "!!int":
		return "int"
	case "!!float":
		return "float"
	case "!!bool":
		return "bool"
	}
	return "string"
}

// renderDefault renders a value node as compact JSON in backticks.
func renderDefault(n *yaml.Node) (string, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return "", fmt.Errorf("decode default: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("render default: %w", err)
	}
	return "`" + string(b) + "`", nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}
