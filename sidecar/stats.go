package sidecar

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/history"
)

// gcPausePercentile is the percentile of the GC pauses in stats.
const gcPausePercentile = 99

// rateWindow is how far back stats' rates reach: a minute, or two
// intervals if that is longer, so that there are at least two samples.
func rateWindow(interval time.Duration) time.Duration {
	return max(time.Minute, 2*interval)
}

// historyHandler serves the history ring, on the metrics port and as the
// diagnostics port's history resource alike.
func historyHandler(ring *history.Ring, opts Options) http.Handler {
	return history.Handler(ring, opts.Interval, history.WithPod(opts.PodNamespace, opts.PodName))
}

// statsHandler serves api.StatsResponse: the latest sample's figures and
// findings, and the rates over its recent samples in the ring.
func statsHandler(s *Sampler, ring *history.Ring, opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !getOrHead(w, r) {
			return
		}
		body, err := json.Marshal(stats(s.Latest(), ring.Points(), opts))
		if err != nil { // every figure is finite (the ring drops the others), so this is a bug
			http.Error(w, "encode stats: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(body) // The client went away; nothing to do.
	})
}

// stats builds the stats of snap (nil before the first sample) from the
// ring's points. The sampler adds a sample's point to the ring before it
// publishes the snapshot, so the ring holds snap's point unless later
// samples have already pushed it out.
func stats(snap *Snapshot, points []history.Point, opts Options) api.StatsResponse {
	out := api.StatsResponse{
		Namespace: opts.PodNamespace,
		Pod:       opts.PodName,
		Interval:  opts.Interval.String(),
		Findings:  []findings.Finding{},
	}
	if snap == nil {
		return out
	}
	out.Time, out.TargetUp = snap.Time, snap.TargetUp
	if snap.Findings != nil {
		out.Findings = snap.Findings
	}
	out.GCPauseP99Seconds, out.GCPauseCount = snap.gcPauseP99, snap.gcPauses
	// The points up to snap's, which is the last of them.
	end := len(points)
	for end > 0 && points[end-1].Time.After(snap.Time) {
		end--
	}
	if end == 0 || !points[end-1].Time.Equal(snap.Time) {
		return out
	}
	points = points[:end]
	p := points[end-1]
	out.Goroutines, out.Threads, out.HeapInuseBytes, out.HeapAllocBytes = p.Goroutines, p.Threads, p.HeapInuseBytes, p.HeapAllocBytes
	if alloc, gcs, span, ok := rates(points, rateWindow(opts.Interval)); ok {
		out.AllocBytesPerSecond, out.GCPerSecond, out.RateWindow = alloc, gcs, span.Round(time.Millisecond).String()
	}
	return out
}

// rates returns the growth per second of the allocation and GC counters
// from the earliest usable point within window before the last point to
// the last point, and the span between the two. Only the counters the
// last point has count; a point is usable when it has each of them and
// neither an app restart nor a counter going down lies between it and the
// last point. ok is false when no point is usable (the app did not answer
// the last sample, has just restarted, or exposes neither counter): the
// rates are then unknown, not zero.
func rates(points []history.Point, window time.Duration) (alloc, gcs *float64, span time.Duration, ok bool) {
	last := points[len(points)-1]
	if !last.TargetUp || (last.AllocBytesTotal == nil && last.GCCount == nil) {
		return nil, nil, 0, false
	}
	allocRun := counterRun{need: last.AllocBytesTotal != nil, later: last.AllocBytesTotal}
	gcRun := counterRun{need: last.GCCount != nil, later: last.GCCount}
	first := -1
	for i := len(points) - 2; i >= 0; i-- {
		p := points[i]
		if points[i+1].Restarted || last.Time.Sub(p.Time) > window {
			break
		}
		okAlloc, brokeAlloc := allocRun.step(p.AllocBytesTotal)
		okGC, brokeGC := gcRun.step(p.GCCount)
		if brokeAlloc || brokeGC {
			break
		}
		if okAlloc && okGC {
			first = i
		}
	}
	if first < 0 {
		return nil, nil, 0, false
	}
	from := points[first]
	span = last.Time.Sub(from.Time)
	if span <= 0 {
		return nil, nil, 0, false
	}
	perSecond := func(v, w *float64) *float64 {
		if v == nil {
			return nil
		}
		r := (*v - *w) / span.Seconds()
		return &r
	}
	return perSecond(last.AllocBytesTotal, from.AllocBytesTotal), perSecond(last.GCCount, from.GCCount), span, true
}

// counterRun walks a counter back in time from the last point.
type counterRun struct {
	need  bool     // the last point has the counter
	later *float64 // the value at the latest point seen that has it
}

// step takes the value at the next earlier point: usable says the point
// can start the rate (it has the counter, or the counter is not needed),
// broke that the counter went down after it (a reset the restart
// detection missed), so neither it nor any earlier point can.
func (c *counterRun) step(v *float64) (usable, broke bool) {
	if !c.need {
		return true, false
	}
	if v == nil {
		return false, false
	}
	if *v > *c.later {
		return false, true
	}
	c.later = v
	return true, false
}
