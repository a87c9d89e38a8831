// Package loadgen sends real AdmissionReviews to a running webhook over TLS
// and measures what it holds: throughput, latency percentiles, errors by
// cause and the serving certificates it was shown. It drives N concurrent
// keep-alive HTTP/1.1 connections either as fast as they go (closed loop,
// for throughput) or at a fixed rate (open loop, for latency at a given
// load; latencies are measured from the scheduled send time, so a server
// that falls behind is charged for the queue it causes). RunCreates
// creates pods through the API server instead, as server-side dry runs at a
// steady rate, and checks whether each came back injected.
//
// Requests wraps any pod in AdmissionReviews; callers take their pods from
// internal/testfixture, as the Go benchmarks of package webhook do. `make
// bench` (hack/benchreport) and `make soak` (hack/soak) share this package;
// see BENCHMARKS.md and RELIABILITY.md.
package loadgen
