#!/usr/bin/env bash
# Builds the local cluster's binaries into bin/ from their Go modules, showing
# progress (the first build compiles ~4,000 packages):
#   build.sh kubernetes  kube-apiserver, kubelet, kube-controller-manager,
#                        kube-scheduler, kube-proxy and kubectl, in one go build
#                        so the packages they share compile once;
#   build.sh etcd        etcd.
set -euo pipefail
name=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
mod="$root/hack/controlplane/$name"
mkdir -p "$root/bin"
cd "$mod"
start=$(date +%s)
ldflags=""
case "$name" in
kubernetes)
	v=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
	echo "building kube-apiserver, kubelet, kube-controller-manager, kube-scheduler, kube-proxy, kubectl $v (first time ~15 min on 2 cores, cached after)"
	# Stamp the version as Kubernetes' own release build does: unstamped, each
	# binary reports v0.0.0-master, so clients that check versions (helm's
	# kubeVersion, native-sidecar detection, the node's kubeletVersion) misjudge it.
	minor=$(echo "$v" | cut -d. -f2)
	pkg=k8s.io/component-base/version
	ldflags="-X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
	out=$(mktemp -d "$root/bin/.build.XXXXXX")
	pkgs=./cmd/...
	;;
etcd)
	echo "building etcd $(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3) (first time ~1 min)"
	out=$(mktemp -d "$root/bin/.build.XXXXXX")
	pkgs=.
	;;
*)
	echo "build.sh: unknown module $name" >&2
	exit 2
	;;
esac
trap 'rm -rf "$out"' EXIT
# Without symbol tables or DWARF, as Kubernetes' own release build links them
# (its hack/lib/golang.sh strips unless DBG=1): shorter links, smaller binaries.
# -v prints each package as it is compiled; show a count every 200.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -v -o "$out/" $pkgs 2>&1 |
	awk '/^(go: |#|.*\.go:)/ {print; next} {n++; if (n % 200 == 0) {printf "  %s: %d packages compiled\n", "'"$name"'", n; fflush()}}'
for f in "$out"/*; do
	mv "$f" "$root/bin/"
	echo "built bin/$(basename "$f")"
done
echo "built $name in $(( $(date +%s) - start ))s"
