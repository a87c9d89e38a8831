package app

import (
	"expvar"
	"fmt"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewDebugHandler returns the debug server's handler for mode, on its own
// ServeMux: the packages register on http.DefaultServeMux too, which is
// never served.
func NewDebugHandler(mode Mode) (http.Handler, error) {
	mux := http.NewServeMux()
	switch mode {
	case ModeExpvar:
		mux.Handle("/debug/vars", expvar.Handler())
		addPprof(mux)
	case ModePrometheus:
		// What promhttp.Handler() serves, from a private registry.
		reg := prometheus.NewRegistry()
		reg.MustRegister(
			collectors.NewGoCollector(),
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
