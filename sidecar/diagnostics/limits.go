package diagnostics

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// refusal is a request the sidecar turns down: an HTTP status, the reason
// in words, and when to try again (0: no Retry-After).
type refusal struct {
	status     int
	reason     string
	retryAfter time.Duration
}

func (r *refusal) Error() string { return r.reason }

func refuse(status int, format string, args ...any) *refusal {
	return &refusal{status: status, reason: fmt.Sprintf(format, args...)}
}

// guard holds the limits that protect the app: one exclusive request (a CPU
// profile or a trace) at a time, and a token bucket for dumps.
type guard struct {
	dumps *rate.Limiter
	now   func() time.Time

	mu      sync.Mutex
	running *exclusiveRun // nil when none runs
}

// exclusiveRun is the CPU profile or trace in progress.
type exclusiveRun struct {
	resource string
	started  time.Time
	length   time.Duration
}

func newGuard(dumpsPerMinute, burst int) *guard {
	return &guard{
		dumps: rate.NewLimiter(rate.Limit(float64(dumpsPerMinute)/60), burst),
		now:   time.Now,
	}
}

// admit reserves what res needs for a request that lasts length, or says
// why not. The caller calls release once the request ends.
func (g *guard) admit(res resource, length time.Duration) (release func(), _ *refusal) {
	if !res.exclusive {
		r := g.dumps.ReserveN(g.now(), 1)
		if wait := r.DelayFrom(g.now()); wait > 0 {
			r.CancelAt(g.now())
			out := refuse(http.StatusTooManyRequests, "too many dumps from this pod: at most %s per minute, %d at once; try again in %s",
				formatRate(g.dumps.Limit()), g.dumps.Burst(), wait.Round(time.Second))
			out.retryAfter = wait
			return nil, out
		}
		return func() {}, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if run := g.running; run != nil {
		elapsed := g.now().Sub(run.started)
		left := max(run.length-elapsed, 0)
		out := refuse(http.StatusConflict, "a %s is already running on this pod (started %s ago, for %s): one CPU profile or trace at a time",
			run.resource, elapsed.Round(time.Second), run.length)
		out.retryAfter = left + time.Second
		return nil, out
	}
	run := &exclusiveRun{resource: res.name, started: g.now(), length: length}
	g.running = run
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.running == run {
			g.running = nil
		}
	}, nil
}

func formatRate(l rate.Limit) string {
	return fmt.Sprintf("%g", float64(l)*60)
}
