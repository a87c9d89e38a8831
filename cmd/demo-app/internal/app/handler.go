package app

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strconv"

	"github.com/go-logr/logr"
)

// NewAppHandler returns the app server's handler: the knobs (goroutines,
// allocations, GC, exit), GET /self, GET /pauses and GET /healthz. Every
// answer is JSON. POST /exit?code=N sends N on exits (buffered by the
// caller), for Run to end the process with that code, as a crash would.
func NewAppHandler(p *Parker, a *Allocator, exits chan<- int, log logr.Logger) http.Handler {
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

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // Only plain values; a failed write means the client left.
}

func writeError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
