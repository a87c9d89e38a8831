// Package ui serves the sidecar's page: one self-contained HTML document
// (inline CSS and JavaScript, no CDN, no fonts, nothing remote) that polls
// the history API with a relative URL and charts goroutines, heap, GC pause
// quantiles and allocation rate over time, under the sidecar's findings with
// their evidence and advice (findings.js, inlined into the page when it is
// served). Because the URLs are relative the page works at "/" behind
// kubectl port-forward and under the path prefix of kubectl proxy alike.
package ui
