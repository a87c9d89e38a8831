package source

import (
	"math/rand/v2"
	"time"
)

// backoff spaces out attempts after failures: after the n-th consecutive
// failure the next attempt waits base*2^(n-1), at most max, with "equal
// jitter" (a random point in the upper half of that delay) so sidecars of
// many replicas do not retry in step. A success resets it.
type backoff struct {
	base, max time.Duration
	failures  int
	next      time.Time
	// jitter returns a number in [0, 1); nil means math/rand/v2.
	jitter func() float64
}

// ready reports whether an attempt may be made at now.
func (b *backoff) ready(now time.Time) bool { return !now.Before(b.next) }

// success resets the backoff.
func (b *backoff) success() {
	b.failures = 0
	b.next = time.Time{}
}

// failure records a failed attempt made at now and returns the wait before
// the next one.
func (b *backoff) failure(now time.Time) time.Duration {
	b.failures++
	delay := b.base
	for i := 1; i < b.failures && delay < b.max; i++ {
		delay *= 2
	}
	if delay > b.max {
		delay = b.max
	}
	j := b.jitter
	if j == nil {
		j = rand.Float64
	}
	half := delay / 2
	delay = half + time.Duration(j()*float64(delay-half))
	b.next = now.Add(delay)
	return delay
}
