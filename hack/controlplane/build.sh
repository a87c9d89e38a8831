#!/usr/bin/env bash
# Builds bin/<name> from the Go module in hack/controlplane/<name>, showing
# progress (the first build of kube-apiserver compiles ~3,000 packages).
set -euo pipefail
name=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
mod="$root/hack/controlplane/$name"
out="$root/bin/$name"
mkdir -p "$root/bin"
echo "building $name from $(grep -E '^require|k8s.io/kubernetes v|etcd/server/v3 v' "$mod/go.mod" | head -1 | sed 's/require //') (cached after the first time)"
start=$(date +%s)
cd "$mod"
# -v prints each package as it is compiled; show a count every 100.
CGO_ENABLED=0 go build -trimpath -v -o "$out.tmp" . 2>&1 |
	awk '/^(go: |#|.*\.go:)/ {print; next} {n++; if (n % 100 == 0) {printf "  %s: %d packages compiled\n", "'"$name"'", n; fflush()}}'
mv "$out.tmp" "$out"
echo "built bin/$name in $(( $(date +%s) - start ))s"
