// Package findings derives what is wrong with a Go app from its samples: a
// suspected goroutine leak, memory near the container's limit, no
// GOMEMLIMIT under a memory limit, GC pressure, and a GOMAXPROCS above the
// CPU limit. A Set is fed one Observation per sample and returns the
// findings active after it, each with a kind, a severity, its evidence and
// one line of advice.
//
// Invariants: the package is pure (the caller passes the time, so tests use
// a fake clock); a finding holds only while its condition holds and clears
// itself on the first observation where it does not; and a detector that
// lacks a figure it needs stays silent rather than guess, because a false
// positive is worse than silence.
package findings
