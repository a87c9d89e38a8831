// Package app is the demo application behind cmd/demo-app: a small Go HTTP
// service whose debug server exposes what real Go services expose (expvar and
// net/http/pprof, client_golang's /metrics, or pprof alone) and whose app
// server has knobs that make its runtime numbers move (goroutines,
// allocations, GC) or take the shapes the sidecar's findings look for (a
// goroutine leak, a heap growing toward a limit, GC churn, a hot function
// for CPU profiles), and a
// self-report of those numbers, read by the process itself, for tests to
// compare with what the sidecar saw.
package app
