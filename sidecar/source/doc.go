// Package source reads the Go runtime figures a Go service already exposes
// on its debug port, one Source per endpoint: [Expvar] (expvar's
// /debug/vars), [Pprof] (net/http/pprof's index page, with the first line
// of goroutine?debug=1 as its fallback) and [Prometheus] (the app's own
// go_* and process_* families).
//
// Invariant: a source bounds what it costs both sides: one request in
// flight, a timeout per request, a cap on the response body, backoff with
// jitter after failures, and never goroutine?debug=2. The parsers read
// hostile input without panicking or growing memory beyond the body cap.
// Of the app's own exposition, at most [MaxSeriesPerFamily] series per
// family, [MaxSeries] series and [MaxSamples] sample lines are kept,
// decided line by line before expfmt parses one family at a time; what the
// limits leave out is counted in [Dropped].
package source
