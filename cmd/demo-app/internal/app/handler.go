package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strconv"

	"github.com/go-logr/logr"
)

// NewAppHandler returns the app server's handler. Every answer is JSON; a
// bad parameter is a 400 with {"error": "..."}. The endpoints:
//
//   - POST /goroutines?n=N parks N more goroutines; DELETE /goroutines stops them.
//   - POST /alloc?bytes=SIZE[&keep=true] allocates SIZE bytes, kept live with
//     keep; DELETE /alloc drops what is kept.
//   - POST /leak?rate=N leaks N goroutines per second, each blocked in
//     leakedRequest (at most 200,000 in all); DELETE /leak stops and lets
//     every leaked goroutine exit.
//   - POST /grow?rate=SIZE&up-to=SIZE keeps SIZE bytes more per second until
//     up-to are kept, then holds them; DELETE /grow drops them and returns
//     the memory to the operating system.
//   - POST /gc-churn?rate=SIZE[&live=SIZE] allocates SIZE bytes of garbage
//     per second around a live set of pointers (16 MiB by default), so the
//     GC takes a large share of the CPU; DELETE /gc-churn stops.
//   - POST /gc runs a GC; GET /self, GET /pauses and GET /healthz report.
//   - POST /exit?code=N sends N on exits (buffered by the caller), for Run
//     to end the process with that code, as a crash would.
//
// A second POST to /leak, /grow or /gc-churn replaces the rate set before.
func NewAppHandler(k *Knobs, exits chan<- int, log logr.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /exit", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.URL.Query().Get("code"))
		if err != nil || code < 0 || code > 125 {
			writeError(w, fmt.Errorf("code %q: want a whole number from 0 to 125", r.URL.Query().Get("code")))
			return
		}
		log.Info("exiting as asked", "code", code)
		select {
		case exits <- code:
			writeJSON(w, map[string]int{"exiting": code})
		default:
			writeError(w, fmt.Errorf("already exiting"))
		}
	})
	addCountKnobs(mux, k, log)
	addShapeKnobs(mux, k, log)
	mux.HandleFunc("POST /gc", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		s := ReadSelf()
		log.Info("ran GC", "numGC", s.NumGC)
		writeJSON(w, map[string]any{"numGC": s.NumGC, "heapAlloc": s.HeapAlloc})
	})
	mux.HandleFunc("GET /self", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, ReadSelf())
	})
	mux.HandleFunc("GET /pauses", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, ReadPauses())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]string{"status": "ok"})
	})
	return mux
}

// addCountKnobs registers /goroutines and /alloc, which move the counts by
// a fixed amount.
func addCountKnobs(mux *http.ServeMux, k *Knobs, log logr.Logger) {
	p, a := &k.Goroutines, &k.Memory
	mux.HandleFunc("POST /goroutines", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil {
			writeError(w, fmt.Errorf("parameter n %q: want a number of goroutines", r.URL.Query().Get("n")))
			return
		}
		parked, err := p.Start(n)
		if err != nil {
			writeError(w, err)
			return
		}
		log.Info("started goroutines", "started", n, "parked", parked)
		writeJSON(w, map[string]int{"started": n, "parked": parked})
	})
	mux.HandleFunc("DELETE /goroutines", func(w http.ResponseWriter, _ *http.Request) {
		n := p.StopAll()
		log.Info("stopped goroutines", "stopped", n)
		writeJSON(w, map[string]int{"stopped": n})
	})
	mux.HandleFunc("POST /alloc", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n, err := ParseByteSize(q.Get("bytes"))
		if err != nil {
			writeError(w, fmt.Errorf("parameter bytes: %w", err))
			return
		}
		keep := false
		if s := q.Get("keep"); s != "" {
			if keep, err = strconv.ParseBool(s); err != nil {
				writeError(w, fmt.Errorf("parameter keep %q: want true or false", s))
				return
			}
		}
		kept, err := a.Alloc(int64(n), keep)
		if err != nil {
			writeError(w, err)
			return
		}
		log.Info("allocated", "bytes", int64(n), "keep", keep, "keptBytes", kept)
		writeJSON(w, map[string]any{"allocated": int64(n), "keep": keep, "kept": kept})
	})
	mux.HandleFunc("DELETE /alloc", func(w http.ResponseWriter, _ *http.Request) {
		n := a.Release()
		log.Info("released kept memory", "bytes", n)
		writeJSON(w, map[string]int64{"released": n})
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // Only plain values; a failed write means the client left.
}

func writeError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
