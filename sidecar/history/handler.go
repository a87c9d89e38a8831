package history

import (
	"encoding/json"
	"net/http"
	"time"
)

// Response is the JSON body of GET /api/v1/history.
type Response struct {
	// Interval is the sampling interval, as a Go duration ("10s").
	Interval string `json:"interval"`
	// IntervalSeconds is Interval in seconds, for clients that poll.
	IntervalSeconds float64 `json:"intervalSeconds"`
	// Capacity is the most points the ring keeps.
	Capacity int `json:"capacity"`
	// Pod and Namespace name the pod whose app is sampled, when known.
	Pod string `json:"pod,omitempty"`
	// Namespace: see Pod.
	Namespace string `json:"namespace,omitempty"`
	// Points are the samples, oldest first.
	Points []RatedPoint `json:"points"`
}

// RatedPoint is a Point with the allocation rate derived from it and the
// point before it.
type RatedPoint struct {
	Point
	// AllocRateBytesPerSecond is the growth of AllocBytesTotal since the
	// previous point divided by the time between them. It is absent for the
	// first point, across a restart, when either value is missing, and when
	// the counter went down.
	AllocRateBytesPerSecond *float64 `json:"allocRateBytesPerSecond,omitempty"`
}

// Option configures Handler.
type Option func(*Response)

// WithPod names the pod (and its namespace) in every response, so the page
// can say whose runtime it shows. Empty values are omitted.
func WithPod(namespace, pod string) Option {
	return func(r *Response) { r.Namespace, r.Pod = namespace, pod }
}

// Handler serves the ring as JSON on GET (and HEAD); other methods get 405.
// interval is the sampling interval the ring is filled at.
func Handler(r *Ring, interval time.Duration, opts ...Option) http.Handler {
	base := Response{
		Interval:        interval.String(),
		IntervalSeconds: interval.Seconds(),
		Capacity:        r.Cap(),
	}
	for _, o := range opts {
		o(&base)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
			return
		}
		resp := base
		resp.Points = Rate(r.Points())
		body, err := json.Marshal(resp)
		if err != nil { // Add keeps only finite values, so this is a bug.
			http.Error(w, "encode history: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body) // The client went away; nothing to do.
	})
}

// Rate pairs each point with the allocation rate since the point before it.
func Rate(points []Point) []RatedPoint {
	out := make([]RatedPoint, len(points))
	rates := make([]float64, len(points))
	for i, p := range points {
		out[i].Point = p
		if i == 0 || p.Restarted {
			continue
		}
		prev := points[i-1]
		if prev.AllocBytesTotal == nil || p.AllocBytesTotal == nil {
			continue
		}
		delta := *p.AllocBytesTotal - *prev.AllocBytesTotal
		dt := p.Time.Sub(prev.Time).Seconds()
		if delta < 0 || dt <= 0 {
			continue
		}
		rates[i] = delta / dt
		out[i].AllocRateBytesPerSecond = &rates[i]
	}
	return out
}
