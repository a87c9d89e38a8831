// Command benchreport is the second half of `make bench` (hack/bench.sh runs
// the Go benchmarks first and hands their output over). It measures the
// real binaries: bin/webhook over TLS on loopback against the local control
// plane, driven by hack/loadgen, against its floor (the same server
// admitting pods of an opted-out namespace unchanged); bin/sidecar sampling
// the demo app every second, read from /proc, with the stop-the-world
// pauses it imposes on the app read from the app's runtime/metrics, against
// client_golang scraping the same app. It prints every figure with its
// floor, ratio and target, marks misses, ends with "N of M targets met;
// misses: ...", optionally writes the table as Markdown for BENCHMARKS.md,
// and exits 0 unless --fail-on-miss is given and a target was missed.
package main
