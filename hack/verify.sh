#!/usr/bin/env bash
# Regenerates every generated file and fails if any differs from what is committed, so
# generated files never drift from their sources. Add a generator below as one more step.
# Usage: hack/verify.sh   (make verify)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

generated=()

# The chart README's values table, from values.yaml's `# --` comments.
go run ./hack/chartdoc --chart charts/gopherscope
generated+=(charts/gopherscope/README.md)

# The control plane module's replace block, from k8s.io/kubernetes's go.mod.
hack/controlplane/gen-replaces.sh
generated+=(hack/controlplane/kubernetes/go.mod)

# Every module's go.mod and go.sum are tidy.
for dir in . hack/images hack/controlplane/kubernetes hack/controlplane/etcd; do
  if ! (cd "$dir" && go mod tidy -diff); then
    echo "verify: go.mod/go.sum of $dir are not tidy; run go mod tidy there" >&2
    exit 1
  fi
done

if ! git diff --exit-code -- "${generated[@]}"; then
  echo "verify: generated files are out of date; commit the regenerated files above" >&2
  exit 1
fi
untracked="$(git ls-files --others --exclude-standard -- "${generated[@]}")"
if [[ -n "$untracked" ]]; then
  echo "verify: generated files are not committed: $untracked" >&2
  exit 1
fi
echo "verify: ok (${generated[*]})"
