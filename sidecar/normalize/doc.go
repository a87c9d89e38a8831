// Package normalize maps what the sources read onto client_golang's series
// (names, types, help texts and semantics), so that dashboards built for
// client_golang's Go collector (Grafana 6671, 10826) work unchanged.
//
// Which series each kind of app yields (an absent series is simply not
// exposed; nothing is ever duplicated):
//
//	series                                 expvar+pprof  prometheus  pprof only
//	go_goroutines                          pprof index   yes         pprof index
//	go_threads                             pprof index   yes         pprof index
//	go_memstats_* (21, 3 of them counters) expvar        yes         -
//	go_memstats_last_gc_time_seconds       expvar        yes         -
//	go_gc_duration_seconds (summary)       expvar        yes         -
//	go_info{version}                       -             yes         -
//	go_sched_gomaxprocs_threads            -             yes         -
//	go_gc_gogc_percent                     -             yes         -
//	go_gc_gomemlimit_bytes                 -             yes         -
//	other go_* and process_* of the app    -             yes         -
//
// An app with expvar only (no pprof) yields the expvar rows without
// go_goroutines and go_threads. "prometheus" means the app's own client_golang
// exposition (its Go and process collectors): its go_* and process_*
// families pass through as they are, except for the counter adjustment
// below; its other series are dropped.
//
// Priority: when several sources provide a family, the whole family is taken
// from one of them: the app's Prometheus exposition, then expvar, then the
// pprof index (with goroutine?debug=1 as the index's own fallback).
//
// go_gc_duration_seconds from expvar is computed exactly as runtime/debug's
// ReadGCStats (what client_golang reads): quantiles 0, .25, .5, .75 and 1 of
// the last min(NumGC, 256) pauses of the circular PauseNs buffer, _sum =
// PauseTotalNs in seconds, _count = NumGC.
//
// Restarts: when a counter-like value (a counter, a summary's or histogram's
// _count and _sum, a histogram bucket) goes down, or the app's command line
// or process_start_time_seconds changes, the app restarted. The restart is
// counted, and every counter-like value gets an offset equal to its last
// reading from the old process, so the exposed counters never go backwards:
// exposed = raw + offset. Gauges and quantiles are exposed as read.
package normalize
