// Package testfixture holds the pods that tests and benchmarks share, and the
// AdmissionReview the API server wraps them in: a typical pod, a large one and
// an injected one, so that the Go benchmarks of package webhook and the load
// tools under hack/ describe the same requests. Product code never imports it.
package testfixture
