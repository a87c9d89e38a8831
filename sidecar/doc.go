// Package sidecar is gopherscope's injected sidecar: a Sampler reads the
// app's debug endpoints (package source) in the background at the interval,
// maps them onto client_golang's series (package normalize) and publishes
// each sample as an immutable Snapshot and a history point (package
// history). The server answers from the latest snapshot only, so any number
// of scrapers costs the app nothing more.
//
// Routes (nothing else; never http.DefaultServeMux, never the sidecar's own
// pprof):
//
//	/metrics          the normalized series and the sidecar's gopherscope_* health
//	/healthz          200 while the process serves
//	/readyz           200 once the app has answered at least once, else 503 with why
//	/api/v1/history   the history ring as JSON
//	/                 the page charting the history (package ui)
//
// Health series: gopherscope_target_up (1 when any endpoint answered the last
// sample), gopherscope_source_up{source} and
// gopherscope_scrape_duration_seconds{source} (source = expvar, pprof,
// prometheus; only the enabled ones), gopherscope_target_restarts_total and
// gopherscope_last_sample_timestamp_seconds. The sidecar never exposes its
// own go_* or process_* series: they would collide with the app's.
//
// When every endpoint fails, the app's series are left out (they go stale in
// Prometheus) and gopherscope_target_up is 0; counters resume from where they
// were when the app comes back, even after a restart (see package normalize
// for which series each kind of app yields and how restarts are handled).
package sidecar
