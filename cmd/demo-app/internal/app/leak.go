package app

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Limits of the leak knob: a forgotten knob holds at maxLeaked goroutines
// instead of taking the machine down.
const (
	maxLeakRate = 10_000  // goroutines per second
	maxLeaked   = 200_000 // in total
	leakTick    = 100 * time.Millisecond
)

// Leaker leaks goroutines at a steady rate, as a server whose handlers wait
// for an answer that never comes: each one blocks in leakedRequest until
// Stop. It is safe for concurrent use.
type Leaker struct {
	mu      sync.Mutex
	rate    int
	stop    chan struct{} // closed to stop the leaking loop; nil when not leaking
	done    chan struct{} // closed when the leaking loop has returned
	release chan struct{} // closed by Stop: every leaked goroutine returns
	leaked  atomic.Int64
	exited  sync.WaitGroup
	// limit is the most goroutines leaked at once; 0 means maxLeaked.
	limit int64
}

// Start leaks rate goroutines per second from now on, in place of any rate
// set before (the goroutines leaked so far stay), and returns how many are
// leaked so far. Leaking pauses while 200,000 are.
func (l *Leaker) Start(rate int) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rate < 1 || rate > maxLeakRate {
		return l.leaked.Load(), fmt.Errorf("leak %d goroutines per second: want 1 to %d", rate, maxLeakRate)
	}
	l.stopLoop()
	if l.release == nil {
		l.release = make(chan struct{})
	}
	l.rate, l.stop, l.done = rate, make(chan struct{}), make(chan struct{})
	go l.leak(rate, l.release, l.stop, l.done)
	return l.leaked.Load(), nil
}

// Stop stops leaking, lets every leaked goroutine return, waits until they
// have and returns how many there were.
func (l *Leaker) Stop() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopLoop()
	if l.release != nil {
		close(l.release)
		l.release = nil
	}
	l.exited.Wait()
	return l.leaked.Swap(0)
}

// Leaking returns the rate (0 when not leaking) and how many goroutines
// are leaked.
func (l *Leaker) Leaking() (rate int, leaked int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rate, l.leaked.Load()
}

// stopLoop stops the leaking loop, if any, and waits for it. l.mu is held.
func (l *Leaker) stopLoop() {
	if l.stop == nil {
		return
	}
	close(l.stop)
	<-l.done
	l.rate, l.stop, l.done = 0, nil, nil
}

// leak starts rate goroutines per second, each blocked until release is
// closed, until stop is closed; then it closes done.
func (l *Leaker) leak(rate int, release, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	limit := l.limit
	if limit == 0 {
		limit = maxLeaked
	}
	began := time.Now()
	var started int64
	tick := time.NewTicker(min(leakTick, time.Second/time.Duration(rate)))
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		due := int64(float64(rate)*time.Since(began).Seconds()) - started
		for ; due > 0; due-- {
			started++
			if l.leaked.Load() >= limit {
				continue
			}
			l.leaked.Add(1)
			l.exited.Add(1)
			go leakedRequest(release, &l.exited)
		}
	}
}

// leakedRequest is what every leaked goroutine runs: it waits for an answer
// nobody sends (release is closed only by Leaker.Stop). It is a named
// function, not a closure, so goroutine profiles and the sidecar's leak
// finding name it.
func leakedRequest(release <-chan struct{}, exited *sync.WaitGroup) {
	defer exited.Done()
	<-release
}
