// Command benchreport is the second half of `make bench` (hack/bench.sh runs
// the Go benchmarks first and hands their output over). It measures the
// real binaries against their targets, each figure next to a floor measured
// in the same run: pod creates through the local control plane's API server
// (dry runs at a steady rate) in a namespace whose pods the chart's webhook
// configuration sends to bin/webhook and in one it does not; bin/sidecar
// sampling the demo app every second, read from /proc, with the
// stop-the-world pauses it imposes on the app read from the app's
// runtime/metrics; and, on the real node (test/localcluster) with the
// chart installed, the diagnostics API: its server's RSS at rest, heap and
// CPU profiles through the API server against the app's own pprof, and
// `gopherscope top` over 100 injected pods. Requests sent straight to the
// webhook over TLS and the Go benchmarks are reported as diagnostics. It
// prints the table, marks misses, ends with "N of M targets met; misses:
// ...", optionally writes the table as Markdown for BENCHMARKS.md, and
// exits 0 unless --fail-on-miss is given and a target was missed.
package main
