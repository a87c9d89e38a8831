#!/usr/bin/env bash
# Builds a release into dist/ without publishing anything (a dry run):
#   dist/bin/<os>_<arch>/{webhook,sidecar,gopherscope,diagnostics}   static, version-stamped binaries
#   dist/images/<name>-<version>.tar                      OCI archives (multi-arch index)
#   dist/images/<name>-<version>.<os>-<arch>.docker.tar   `docker load`-able, one per platform
#   dist/gopherscope-<chart version>.tgz                  the Helm chart, appVersion = version
#   dist/SHA256SUMS                                       checksums of all of the above, verified
#
# Usage: hack/release.sh [all|binaries|images|chart|sums]   (default: all)
#   images builds the binaries the images need, then the image archives.
# Environment (all optional): VERSION (default: git describe), DIST, PLATFORMS,
# BINARIES, IMAGES, SOURCE_DATE_EPOCH (default: the last commit's time), REVISION, HELM.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
DIST=$(mkdir -p "${DIST:-$root/dist}" && cd "${DIST:-$root/dist}" && pwd)
PLATFORMS=${PLATFORMS:-linux/amd64 linux/arm64}
BINARIES=${BINARIES:-webhook sidecar gopherscope diagnostics}
IMAGES=${IMAGES:-webhook diagnostics sidecar}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
REVISION=${REVISION:-$(git rev-parse HEAD 2>/dev/null || true)}
HELM=${HELM:-$root/bin/helm}
export SOURCE_DATE_EPOCH

# The image tag, and the chart's appVersion; it must be a valid tag.
if ! [[ $VERSION =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
	echo "VERSION=$VERSION is not a valid image tag ([A-Za-z0-9_][A-Za-z0-9_.-]*)" >&2
	exit 2
fi

# chart_version is VERSION as the SemVer 2 a chart needs: v1.2.3[-rc.1] loses
# its "v"; anything else (a `git describe` of an untagged tree) becomes a
# 0.0.0-dev-<version> pre-release.
chart_version() {
	local v=${VERSION#v}
	if [[ $v =~ ^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$ ]]; then
		echo "$v"
	else
		echo "0.0.0-dev-${VERSION//[^0-9A-Za-z-]/-}"
	fi
}

# package_of is the main package of binary $1: ./cmd/NAME, or the local
# node's pause binary (a test image, never released).
package_of() {
	case $1 in
	pause) echo ./test/localcluster/pause ;;
	*) echo "./cmd/$1" ;;
	esac
}

binaries() {
	local p os arch b
	for p in $PLATFORMS; do
		os=${p%/*} arch=${p#*/}
		for b in $BINARIES; do
			echo "go build ./cmd/$b -> dist/bin/${os}_$arch/$b ($VERSION)"
			# -tags grpcnotrace: as the Makefile's GO_TAGS says.
			CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=false -tags grpcnotrace \
				-ldflags "-s -w -X github.com/gopherscope/gopherscope/version.Version=$VERSION" \
				-o "$DIST/bin/${os}_$arch/$b" "$(package_of "$b")"
		done
	done
}

# package_images builds the image archives from the binaries in dist/bin.
package_images() {
	rm -rf "${DIST:?}/images"
	go -C hack/images run . --version "$VERSION" --revision "$REVISION" \
		--images "${IMAGES// /,}" --platforms "${PLATFORMS// /,}" \
		--bin-dir "$DIST/bin" --out "$DIST/images"
}

# chart packages the chart (in a subshell, so its cleanup trap stays local).
chart() (
	version=$(chart_version)
	work=$(mktemp -d "$DIST/.chart.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	# A copy, so the chart's own Chart.yaml is never edited: its version,
	# appVersion and the artifacthub image list follow VERSION.
	cp -R charts/gopherscope "$work/"
	sed -i -E \
		-e "s|^version:.*|version: $version|" \
		-e "s|^appVersion:.*|appVersion: $VERSION|" \
		-e "s|(ghcr\.io/gopherscope/[a-z-]+):[^[:space:]\"]+|\1:$VERSION|g" \
		"$work/gopherscope/Chart.yaml"
	rm -f "$DIST"/gopherscope-*.tgz
	"$HELM" package "$work/gopherscope" --version "$version" --app-version "$VERSION" -d "$DIST"
	tgz=$DIST/gopherscope-$version.tgz
	# The packaged chart must pull exactly the images built above.
	"$HELM" show chart "$tgz" | grep -Eqx "appVersion: \"?$VERSION\"?" ||
		{ echo "$tgz: appVersion is not $VERSION" >&2; exit 1; }
	rendered=$("$HELM" template gopherscope "$tgz" --namespace gopherscope-system)
	for img in webhook diagnostics sidecar; do
		grep -q "ghcr.io/gopherscope/$img:$VERSION" <<<"$rendered" ||
			{ echo "$tgz: rendered manifests do not use ghcr.io/gopherscope/$img:$VERSION" >&2; exit 1; }
	done
	echo "packaged $tgz (version $version, appVersion $VERSION)"
)

sums() {
	(
		cd "$DIST"
		find bin images -type f ! -name '.*' | sort | xargs sha256sum >SHA256SUMS
		sha256sum gopherscope-*.tgz >>SHA256SUMS
		sha256sum --check --quiet --strict SHA256SUMS
	)
	echo "dist/SHA256SUMS: $(wc -l <"$DIST/SHA256SUMS") files, all verified"
}

# check_versions runs this machine's binaries and requires each to print VERSION.
check_versions() {
	local host dir out
	host=$(go env GOOS)_$(go env GOARCH)
	dir=$DIST/bin/$host
	[ -d "$dir" ] || { echo "no $host binaries to run; version check skipped"; return; }
	for b in $BINARIES; do
		case $b in
		gopherscope) out=$("$dir/$b" version) ;;
		webhook | sidecar | diagnostics) out=$("$dir/$b" --version) ;;
		*) continue ;; # the local node's test images print no version
		esac
		[ "$out" = "$VERSION" ] || { echo "$b prints version '$out', want '$VERSION'" >&2; exit 1; }
	done
	echo "$BINARIES all print $VERSION"
}

case ${1:-all} in
all)
	rm -rf "${DIST:?}/bin" "${DIST:?}/images" "$DIST"/gopherscope-*.tgz "$DIST/SHA256SUMS"
	binaries
	check_versions
	package_images
	chart
	sums
	echo "release $VERSION built in $DIST (dry run: nothing was pushed)"
	;;
binaries) binaries && check_versions ;;
images)
	BINARIES=$IMAGES binaries
	BINARIES=$IMAGES check_versions
	package_images
	;;
chart) chart ;;
sums) sums ;;
*)
	echo "usage: $0 [all|binaries|images|chart|sums]" >&2
	exit 2
	;;
esac
