package history

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"
	"time"
)

// FuzzRingJSON: whatever values a sampler records (NaN, infinities, huge or
// negative numbers, odd times), the history API answers 200 with valid JSON
// holding every point.
func FuzzRingJSON(f *testing.F) {
	f.Add(int64(0), 1.0, 2.0, 3.0, 0.5, true, false)
	f.Add(int64(-1<<62), math.NaN(), math.Inf(1), math.Inf(-1), math.NaN(), false, true)
	f.Add(int64(1<<62), -1e308, 1e308, 0.0, math.Copysign(0, -1), true, true)
	f.Fuzz(func(t *testing.T, unixNano int64, a, b, c, q float64, up, restarted bool) {
		r := New(3)
		for i := range 4 {
			r.Add(Point{
				Time:       time.Unix(0, unixNano).Add(time.Duration(i) * time.Second),
				Goroutines: &a, HeapInuseBytes: &b, AllocBytesTotal: &c,
				GCPauseQuantiles: &[5]float64{q, q, q, q, q}, TargetUp: up, Restarted: restarted && i%2 == 1,
			})
		}
		rec := get(t, Handler(r, time.Second), http.MethodGet)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		var body Response
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("invalid JSON %q: %v", rec.Body.String(), err)
		}
		if len(body.Points) != 3 {
			t.Fatalf("%d points, want 3", len(body.Points))
		}
	})
}
