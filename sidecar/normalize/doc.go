// Package normalize maps what the sources read onto client_golang's series
// (names, types, help texts and semantics), so that dashboards built for
// client_golang's Go collector (Grafana 6671, 10826) work unchanged.
//
// Which series each kind of app yields (an absent series is not exposed):
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
// An app with expvar only yields the expvar rows without go_goroutines and
// go_threads. "prometheus" is the app's own client_golang exposition; its
// other series are dropped.
//
// Invariants: each family comes whole from one source, by a fixed priority,
// so nothing is ever duplicated; and exposed counters never go backwards,
// across app restarts included (exposed = raw + the old process's last
// reading).
package normalize
