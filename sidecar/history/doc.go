// Package history keeps the sidecar's recent samples of the key Go runtime
// series (goroutines, heap, GC pauses, allocations) in a fixed-size ring
// buffer and serves them as JSON for the sidecar's page.
//
// The sampler calls Ring.Add once per interval; Handler serves
// GET /api/v1/history. Memory is bounded by the capacity chosen at New:
// the oldest point is overwritten when the ring is full.
package history
