package app

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// DefaultGCChurnLive is the live set the GC churn knob holds unless told
// otherwise.
const DefaultGCChurnLive ByteSize = 16 << 20

// maxGCChurnLive bounds the GC churn knob's live set.
const maxGCChurnLive ByteSize = 1 << 30

// liveNode is one node of the GC churn knob's live set: nothing but
// pointers, so the GC traces every word of it on every cycle.
type liveNode struct {
	next [4]*liveNode
}

// GCChurner makes the GC take a large share of the CPU, as a service that
// allocates fast around a heap full of pointers does: it holds a live set
// of pointer-only nodes and allocates garbage at a steady rate, so the GC
// runs cycle after cycle and traces the whole set each time. It is safe for
// concurrent use.
type GCChurner struct {
	mu         sync.Mutex
	rate, live ByteSize
	stop       chan struct{} // closed to stop churning; nil when not churning
	done       chan struct{} // closed when the churning goroutine has returned
}

// Start allocates rate bytes of garbage per second around a live set of
// live bytes, in place of any churn started before.
func (c *GCChurner) Start(rate, live ByteSize) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if rate < 1 || rate > maxAllocRate {
		return fmt.Errorf("churn %d bytes per second: want 1 to %d", int64(rate), int64(maxAllocRate))
	}
	if live < 0 || live > maxGCChurnLive {
		return fmt.Errorf("hold a live set of %d bytes: want 0 to %d", int64(live), int64(maxGCChurnLive))
	}
	c.stopChurn()
	c.rate, c.live = rate, live
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go churnAround(rate, live, c.stop, c.done)
	return nil
}

// Stop stops churning and drops the live set; it returns the rate it
// churned at (0: it was not churning).
func (c *GCChurner) Stop() ByteSize {
	c.mu.Lock()
	defer c.mu.Unlock()
	rate := c.rate
	c.stopChurn()
	return rate
}

// Churning returns the rate and the live set (0 when not churning).
func (c *GCChurner) Churning() (rate, live ByteSize) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rate, c.live
}

// stopChurn stops the churning goroutine, if any, and waits for it. c.mu
// is held.
func (c *GCChurner) stopChurn() {
	if c.stop == nil {
		return
	}
	close(c.stop)
	<-c.done
	c.rate, c.live, c.stop, c.done = 0, 0, nil, nil
}

// churnAround builds a live set of live bytes and allocates rate bytes of
// garbage per second until stop is closed; then it drops the set and
// closes done.
func churnAround(rate, live ByteSize, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	set := liveSet(live)
	churnAllocations(stop, rate)
	runtime.KeepAlive(set)
}

// liveSet links about size bytes of liveNodes into a list and returns its
// head.
func liveSet(size ByteSize) *liveNode {
	var head *liveNode
	for range int64(size) / int64(unsafe.Sizeof(liveNode{})) {
		head = &liveNode{next: [4]*liveNode{head}}
	}
	return head
}
