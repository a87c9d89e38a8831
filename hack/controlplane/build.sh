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
ldflags=""
if [ "$name" = kube-apiserver ]; then
	# Stamp the version as Kubernetes' own release build does: unstamped, the
	# server reports v0.0.0-master, so clients that check the server version
	# (helm's kubeVersion, our native-sidecar detection) refuse or misjudge it.
	v=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
	minor=$(echo "$v" | cut -d. -f2)
	pkg=k8s.io/component-base/version
	ldflags="-X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
fi
# -v prints each package as it is compiled; show a count every 100.
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -v -o "$out.tmp" . 2>&1 |
	awk '/^(go: |#|.*\.go:)/ {print; next} {n++; if (n % 100 == 0) {printf "  %s: %d packages compiled\n", "'"$name"'", n; fflush()}}'
mv "$out.tmp" "$out"
echo "built bin/$name in $(( $(date +%s) - start ))s"
