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

# fuzz_one runs one target. Go 1.26's fuzzing coordinator can fail a run at
# the -fuzztime boundary with a bare "context deadline exceeded" when a
# loaded machine keeps a worker from acknowledging the stop in time
# (go.dev/issue/75804, fixed in Go 1.27): no input failed and none was
# written. Such a run is retried, up to twice; any other failure, and a
# failure that wrote a crasher, fails at once.
fuzz_one() {
	local pkg=$1 target=$2 out attempt corpus=$1/testdata/fuzz/$2 before after
	for attempt in 1 2 3; do
		before=$(ls "$corpus" 2>/dev/null | sort || true)
		out=$(mktemp)
		if go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimizetime" "$pkg" 2>&1 | tee "$out"; then
			rm -f "$out"
			return 0
		fi
		after=$(ls "$corpus" 2>/dev/null | sort || true)
		if [ "$before" != "$after" ] || ! grep -qx '    context deadline exceeded' "$out" || grep -q -e '--- FAIL: .*/' -e 'Failing input written' "$out"; then
			rm -f "$out"
			return 1
		fi
		rm -f "$out"
		echo "fuzz $pkg $target: Go's coordinator missed its own stop deadline with no failing input (go.dev/issue/75804); run $attempt of 3"
	done
	return 1
}

found=0
while IFS= read -r file; do
	pkg=./$(dirname "$file")
	for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
		found=$((found + 1))
		echo "fuzz $pkg $target for $fuzztime"
		fuzz_one "$pkg" "$target"
	done
done < <(git ls-files --cached --others --exclude-standard -- '*_test.go' | sort)
echo "ran $found fuzz targets for $fuzztime each"
[ "$found" -gt 0 ]
