// Package sidecar is gopherscope's injected sidecar: a Sampler reads the
// app's debug endpoints (package source) at the interval, maps them onto
// client_golang's series (package normalize) and publishes each sample as
// an immutable Snapshot and a history point (package history); NewMux
// serves /metrics, /healthz, /readyz, /api/v1/history, /api/v1/sources (each
// endpoint's health, why it fails and the annotation that fixes it),
// /api/v1/findings (what package findings derives from the samples) and the
// page (package ui), and nothing else. Where enabled, a second port serves
// the app's profiles to gopherscope's diagnostics server alone (package
// diagnostics), over mutual TLS.
//
// Invariants: a request to the metrics port never reaches the app (every
// route answers from the latest sample, whose exposition is rendered once),
// so any number of scrapers costs the app nothing more; and the sidecar's own
// series are gopherscope_* only, never go_* or process_*, which would
// collide with the app's.
package sidecar
