#!/usr/bin/env bash
# make soak: bin/webhook under 1,000 AdmissionReviews/s (or the machine's
# measured maximum, stated) over TLS on loopback against the local control
# plane, 60 s per scenario: steady, certificate rotation every 5 s, config
# rewrites (valid and invalid) every 5 s. Prints what was held and exits 1
# if a check failed. Extra arguments go to hack/soak (`go run ./hack/soak -h`).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
status=0
go run ./hack/soak --repo . "$@" || status=$?
echo "soak: done in $(( $(date +%s) - start ))s"
exit "$status"
