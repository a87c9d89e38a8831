package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-logr/logr"
)

// addShapeKnobs registers /leak, /grow, /gc-churn and /burn: the knobs
// that give the app's numbers the shapes the sidecar's findings look for (a
// goroutine leak, memory near the limit, GC pressure) and a hot function
// for a CPU profile.
func addShapeKnobs(mux *http.ServeMux, k *Knobs, log logr.Logger) {
	mux.HandleFunc("POST /leak", func(w http.ResponseWriter, r *http.Request) {
		s := r.URL.Query().Get("rate")
		rate, err := strconv.Atoi(s)
		if err != nil {
			writeError(w, fmt.Errorf("parameter rate %q: want a number of goroutines per second", s))
			return
		}
		leaked, err := k.Leak.Start(rate)
		if err != nil {
			writeError(w, err)
			return
		}
		log.Info("leaking goroutines", "perSecond", rate, "leaked", leaked)
		writeJSON(w, map[string]int64{"rate": int64(rate), "leaked": leaked})
	})
	mux.HandleFunc("DELETE /leak", func(w http.ResponseWriter, _ *http.Request) {
		n := k.Leak.Stop()
		log.Info("stopped leaking; the leaked goroutines exited", "exited", n)
		writeJSON(w, map[string]int64{"stopped": n})
	})
	mux.HandleFunc("POST /grow", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rate, err := sizeParam(q, "rate")
		if err != nil {
			writeError(w, err)
			return
		}
		upTo, err := sizeParam(q, "up-to")
		if err != nil {
			writeError(w, err)
			return
		}
		kept, err := k.Growth.Start(rate, upTo)
		if err != nil {
			writeError(w, err)
			return
		}
		log.Info("growing the heap", "bytesPerSecond", int64(rate), "upToBytes", int64(upTo), "keptBytes", kept)
		writeJSON(w, map[string]int64{"rate": int64(rate), "upTo": int64(upTo), "kept": kept})
	})
	mux.HandleFunc("DELETE /grow", func(w http.ResponseWriter, _ *http.Request) {
		n := k.Growth.Stop()
		log.Info("stopped growing and released the heap", "bytes", n)
		writeJSON(w, map[string]int64{"released": n})
	})
	mux.HandleFunc("POST /gc-churn", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rate, err := sizeParam(q, "rate")
		if err != nil {
			writeError(w, err)
			return
		}
		live := DefaultGCChurnLive
		if q.Has("live") {
			if live, err = sizeParam(q, "live"); err != nil {
				writeError(w, err)
				return
			}
		}
		if err := k.GCChurn.Start(rate, live); err != nil {
			writeError(w, err)
			return
		}
		log.Info("churning garbage", "bytesPerSecond", int64(rate), "liveBytes", int64(live))
		writeJSON(w, map[string]int64{"rate": int64(rate), "live": int64(live)})
	})
	mux.HandleFunc("DELETE /gc-churn", func(w http.ResponseWriter, _ *http.Request) {
		rate := k.GCChurn.Stop()
		log.Info("stopped churning garbage", "bytesPerSecond", int64(rate))
		writeJSON(w, map[string]int64{"stopped": int64(rate)})
	})
	addBurnKnob(mux, &k.Burn, log)
}

// addBurnKnob registers /burn: POST starts goroutines that burn CPU in
// BurnCPU, DELETE stops them.
func addBurnKnob(mux *http.ServeMux, b *Burner, log logr.Logger) {
	mux.HandleFunc("POST /burn", func(w http.ResponseWriter, r *http.Request) {
		s := r.URL.Query().Get("goroutines")
		n, err := strconv.Atoi(s)
		if err != nil {
			writeError(w, fmt.Errorf("parameter goroutines %q: want a number of goroutines", s))
			return
		}
		if err := b.Start(n); err != nil {
			writeError(w, err)
			return
		}
		log.Info("burning CPU", "goroutines", n)
		writeJSON(w, map[string]int64{"goroutines": int64(n)})
	})
	mux.HandleFunc("DELETE /burn", func(w http.ResponseWriter, _ *http.Request) {
		n := b.Stop()
		log.Info("stopped burning CPU", "goroutines", n)
		writeJSON(w, map[string]int64{"stopped": int64(n)})
	})
}

// sizeParam parses the query parameter name as a ByteSize.
func sizeParam(q url.Values, name string) (ByteSize, error) {
	v, err := ParseByteSize(q.Get(name))
	if err != nil {
		return 0, fmt.Errorf("parameter %s: %w", name, err)
	}
	return v, nil
}
