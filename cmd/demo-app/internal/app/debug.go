package app

import (
	"expvar"
	"fmt"
	"net/http"
	"net/http/pprof"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// cpuClasses is the client_golang rule that exposes runtime/metrics'
// /cpu/classes/ (go_cpu_classes_gc_total_cpu_seconds_total and the rest).
var cpuClasses = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/cpu/classes/`)}

// NewDebugHandler returns the debug server's handler for mode, on its own
// ServeMux: the packages register on http.DefaultServeMux too, which is
// never served. With cpuMetrics, client_golang's Go collector also exposes
// runtime/metrics' CPU classes, as an app that enables its runtime/metrics
// collection does (ModePrometheus only).
func NewDebugHandler(mode Mode, cpuMetrics bool) (http.Handler, error) {
	mux := http.NewServeMux()
	switch mode {
	case ModeExpvar:
		mux.Handle("/debug/vars", expvar.Handler())
		addPprof(mux)
	case ModePrometheus:
		// What promhttp.Handler() serves, from a private registry.
		reg := prometheus.NewRegistry()
		goCollector := collectors.NewGoCollector()
		if cpuMetrics {
			goCollector = collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(cpuClasses))
		}
		reg.MustRegister(
			goCollector,
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		mux.Handle("/metrics", promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	case ModePprof:
		addPprof(mux)
	default:
		return nil, fmt.Errorf("debug handler for mode %q: unknown mode", mode)
	}
	return mux, nil
}

// addPprof registers net/http/pprof's handlers the way its init does on
// http.DefaultServeMux.
func addPprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}
