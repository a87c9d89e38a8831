// Package source reads the Go runtime figures a Go service already exposes on
// its debug port, one type per endpoint:
//
//   - [Expvar] reads expvar's /debug/vars JSON (runtime.MemStats and the
//     command line);
//   - [Pprof] reads the net/http/pprof index page (the goroutine and
//     threadcreate counts, which cost the app no stop-the-world), falling back
//     to the first line of goroutine?debug=1 when the index has no counts;
//   - [Prometheus] reads the app's own Prometheus text or OpenMetrics
//     exposition and keeps only its go_* and process_* families.
//
// Every source bounds what it costs both sides: one request in flight (a
// source is polled by one goroutine), a timeout per request, a cap on the
// response body (a body over the cap is an error and is never buffered past
// the cap), exponential backoff with jitter after failures, and re-probing of
// the target's ports, in order, when the current port keeps failing. The
// parsers (ParseExpvar, ParsePprofIndex, ParseGoroutineHeader,
// ParsePrometheus) read hostile input without panicking or growing memory
// beyond the body cap. Nothing here ever requests goroutine?debug=2.
package source
