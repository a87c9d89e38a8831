#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 5s).
# `go test` already runs each target's seed corpus as a unit test; this adds
# coverage-guided fuzzing on top. A crasher fails the run and is left under
# the package's testdata/fuzz/<Target>/ so it becomes a seed once fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
# Go minimizes every new interesting input for up to a minute by default;
# with large seeds (a whole exposition, a 1 MiB pod) that minimizing ate
# entire 60s budgets with no fuzzing at all. Cap it.
minimizetime=${FUZZMINIMIZETIME:-5s}
found=0
while IFS= read -r file; do
	pkg=./$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
		found=$((found + 1))
		echo "fuzz $pkg $target for $fuzztime"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimizetime" "$pkg"
	done
done < <(git ls-files --cached --others --exclude-standard -- '*_test.go' | sort)
echo "ran $found fuzz targets for $fuzztime each"
[ "$found" -gt 0 ]
