package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"sigs.k8s.io/yaml"
)

// chartMeta is the part of Chart.yaml the README template uses.
type chartMeta struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     string `json:"version"`
	AppVersion  string `json:"appVersion"`
	KubeVersion string `json:"kubeVersion"`
}

// readmeData is what README.md.gotmpl is executed with.
type readmeData struct {
	Chart chartMeta
	// ValuesTable is the Markdown table of every documented value.
	ValuesTable string
}

// Generate renders dir/README.md.gotmpl with the chart's metadata and values table.
func Generate(dir string) ([]byte, error) {
	read := func(name string) ([]byte, error) {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(filepath.Clean(path))
		if err != nil {
			return nil, fmt.Errorf("read %q: %w", path, err)
		}
		return data, nil
	}
	chartYAML, err := read("Chart.yaml")
	if err != nil {
		return nil, err
	}
	var data readmeData
	if err := yaml.Unmarshal(chartYAML, &data.Chart); err != nil {
		return nil, fmt.Errorf("parse Chart.yaml: %w", err)
	}
	valuesYAML, err := read("values.yaml")
	if err != nil {
		return nil, err
	}
	values, err := ParseValues(valuesYAML)
	if err != nil {
		return nil, err
	}
	data.ValuesTable = ValuesTable(values)
	tmplText, err := read("README.md.gotmpl")
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New("README.md.gotmpl").Option("missingkey=error").Parse(string(tmplText))
	if err != nil {
		return nil, fmt.Errorf("parse README.md.gotmpl: %w", err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, data); err != nil {
		return nil, fmt.Errorf("render README.md.gotmpl: %w", err)
	}
	return out.Bytes(), nil
}

// ValuesTable renders values as a Markdown table.
func ValuesTable(values []Value) string {
	var b strings.Builder
	b.WriteString("| Key | Type | Default | Description |\n|-----|------|---------|-------------|\n")
	for _, v := range values {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(v.Key), cell(v.Type), cell(v.Default), cell(v.Description))
	}
	return b.String()
}

// cell escapes what would break a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
