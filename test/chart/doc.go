// Package chart renders the gopherscope Helm chart (charts/gopherscope) with the pinned
// bin/helm and decodes the manifest into typed Kubernetes and cert-manager objects. The chart
// tests in this package use it to assert on what the chart produces; the end-to-end suite can
// use it to read what it installs. It is test support, not part of the product.
package chart
