#!/usr/bin/env bash
# make bench: the Go benchmarks of the webhook's handler and the sidecar's
# /metrics (diagnostics), then hack/benchreport, which measures the real
# binaries against their targets: pod creates through the local API server
# with the webhook registered by the chart and without it, requests straight
# to the webhook over TLS (diagnostics), the sidecar next to the demo app
# in each of its modes, and the diagnostics API on the real node (root and
# containerd; it waits for /tmp/gopherscope-e2e.lock, the e2e tests' node
# lock, and the table says why where the node cannot run). It prints every
# figure with its floor and target, marks misses and ends with "N of M
# targets met; misses: ...". It exits 0 whatever the figures are (a failure
# to measure still exits non-zero); pass --fail-on-miss to exit 1 on a
# miss, as a gate. Results go to $BENCH_OUT (default bin/bench):
# gobench.txt and results.md. Extra arguments are passed to benchreport
# (see `go run ./hack/benchreport -h`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-bin/bench}
benchtime=${BENCHTIME:-2s}
count=${BENCHCOUNT:-3}
mkdir -p "$out"
start=$(date +%s)
echo "bench: Go benchmarks (-benchtime $benchtime -count $count)"
go test -run '^$' -bench '^BenchmarkAdmissionReview$' -benchmem -benchtime "$benchtime" -count "$count" ./webhook | tee "$out/gobench.txt"
go test -run '^$' -bench '^(BenchmarkMetricsRender|BenchmarkSampleOnceFindings)$' -benchmem -benchtime "$benchtime" -count "$count" ./sidecar | tee -a "$out/gobench.txt"
status=0
go run ./hack/benchreport --gobench "$out/gobench.txt" --markdown "$out/results.md" "$@" || status=$?
echo "bench: done in $(( $(date +%s) - start ))s"
exit "$status"
