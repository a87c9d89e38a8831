// Command chartdoc generates a Helm chart's README.md from its README.md.gotmpl and the
// `# --` comments of its values.yaml (the helm-docs convention), and fails when a value has
// no description, so that every value of the chart stays documented.
//
// A comment block directly above a key documents it when one of its lines starts with
// `# --`; the following comment lines continue the description, and a line
// `# @default -- text` replaces the rendered default (for values computed by the templates).
// `# -- (type) text` overrides the inferred type. A mapping without such a comment is
// documented through its children; any other value without one is an error.
//
// Usage: go run ./hack/chartdoc --chart charts/gopherscope
package main
