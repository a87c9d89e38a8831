#!/usr/bin/env bash
# Regenerates every generated file and fails if any differs from what is committed, so
# generated files never drift from their sources. Add a generator below as one more step.
# Usage: hack/verify.sh   (make verify)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

generated=()

# The chart README, from README.md.gotmpl and values.yaml's `# --` comments, by helm-docs
# (make verify builds it into bin/). Its strict mode only knows `# key -- text` comments, so a
# value without a description is found as a table row with an empty last cell.
HELM_DOCS=${HELM_DOCS:-$root/bin/helm-docs}
"$HELM_DOCS" --chart-search-root charts --sort-values-order file --log-level warning
generated+=(charts/gopherscope/README.md)
if grep -E '^\| .* \|  \|$' charts/gopherscope/README.md; then
  echo "verify: the values above have no \`# --\` description in charts/gopherscope/values.yaml" >&2
  exit 1
fi

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
