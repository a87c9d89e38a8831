#!/usr/bin/env bash
# Runs everything `make test` promises, printing how long each phase took:
# unit and golden tests, the image builder's tests, short fuzzing, the chart's
# lint and render checks, and the end-to-end tests on the local cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-5s}
total=$(date +%s)
phase() {
	local name=$1 start
	shift
	echo "=== test: $name"
	start=$(date +%s)
	"$@"
	echo "=== test: $name took $(($(date +%s) - start))s"
}
phase "go test ./..." go test -count=1 ./...
phase "hack/images tests" go -C hack/images test -count=1 -timeout 30m ./...
phase "fuzzing ($FUZZTIME per target)" env FUZZTIME="$FUZZTIME" hack/fuzz.sh
phase "helm-lint" make --no-print-directory helm-lint
phase "e2e (real node and local control plane)" make --no-print-directory e2e
echo "=== test: all phases took $(($(date +%s) - total))s"
