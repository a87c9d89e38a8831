// Package diagnostics serves the app's profiles, dumps and traces to
// gopherscope's diagnostics API server, and to nothing else.
//
// It listens on its own port, over TLS that requires a client certificate
// issued by gopherscope's diagnostics CA to the expected name. It forwards a
// fixed list of net/http/pprof paths to the app on localhost (never cmdline,
// never symbol), streaming each response with a byte cap, and protects the
// app: one CPU profile or trace at a time, a maximum duration, a rate limit
// on dumps. Every refusal is an HTTP status with a reason, and every request
// is one audit log line: who, what, status, bytes and duration.
package diagnostics
