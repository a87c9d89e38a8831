// Package ui serves the sidecar's page: one self-contained HTML document
// (inline CSS and JavaScript, no CDN, no fonts, nothing remote) that polls
// the history API with a relative URL and charts goroutines, heap, GC pause
// quantiles and allocation rate over time. Because the URL is relative the
// page works at "/" behind kubectl port-forward and under the path prefix
// of kubectl proxy alike.
package ui
