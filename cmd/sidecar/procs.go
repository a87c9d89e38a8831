package main

import "runtime"

// envGOMAXPROCS is the Go runtime's own variable; when set, it wins.
const envGOMAXPROCS = "GOMAXPROCS"

// limitProcs runs the sidecar on one P unless GOMAXPROCS is set. Its work
// is two small HTTP fetches per interval and one page per scrape; a second P
// only adds threads that wake up to look for work. Measured with `make
// bench` (BENCHMARKS.md), one P cuts the CPU per sample by about 40% and the
// peak RSS under 10 scrapers by about 2 MiB. A CPU limit would not do it:
// Go's container-aware default is never below 2.
func limitProcs(getenv func(string) string) {
	if getenv(envGOMAXPROCS) == "" {
		runtime.GOMAXPROCS(1)
	}
}
