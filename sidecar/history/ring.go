package history

import (
	"math"
	"sync"
	"time"
)

// Point is one sample of the key series; a nil field means the sources did
// not provide it.
type Point struct {
	// Time is when the sample was taken.
	Time time.Time `json:"t"`
	// Goroutines is go_goroutines.
	Goroutines *float64 `json:"goroutines,omitempty"`
	// Threads is go_threads.
	Threads *float64 `json:"threads,omitempty"`
	// HeapInuseBytes is go_memstats_heap_inuse_bytes.
	HeapInuseBytes *float64 `json:"heapInuseBytes,omitempty"`
	// HeapAllocBytes is go_memstats_heap_alloc_bytes.
	HeapAllocBytes *float64 `json:"heapAllocBytes,omitempty"`
	// HeapSysBytes is go_memstats_heap_sys_bytes.
	HeapSysBytes *float64 `json:"heapSysBytes,omitempty"`
	// AllocBytesTotal is the counter go_memstats_alloc_bytes_total.
	AllocBytesTotal *float64 `json:"allocBytesTotal,omitempty"`
	// GCCount is go_gc_duration_seconds_count.
	GCCount *float64 `json:"gcCount,omitempty"`
	// GCPauseQuantiles are the go_gc_duration_seconds quantiles 0, .25, .5,
	// .75 and 1, in seconds.
	GCPauseQuantiles *[5]float64 `json:"gcPauseQuantiles,omitempty"`
	// TargetUp says whether the target answered this sample.
	TargetUp bool `json:"targetUp"`
	// Restarted says the target restarted since the previous point.
	Restarted bool `json:"restarted,omitempty"`
}

// The scalar fields of Point, in the order they are stored in an entry.
const (
	fieldGoroutines = iota
	fieldThreads
	fieldHeapInuse
	fieldHeapAlloc
	fieldHeapSys
	fieldAllocTotal
	fieldGCCount
	numFields
)

// entry is a Point stored by value, so that Add allocates nothing and the
// ring shares no memory with its callers.
type entry struct {
	time      time.Time
	values    [numFields]float64
	present   [numFields]bool
	quantiles [5]float64
	hasQuants bool
	up        bool
	restarted bool
}

// scalars returns pointers to p's scalar fields in entry order.
func (p *Point) scalars() [numFields]**float64 {
	return [numFields]**float64{
		&p.Goroutines, &p.Threads, &p.HeapInuseBytes, &p.HeapAllocBytes,
		&p.HeapSysBytes, &p.AllocBytesTotal, &p.GCCount,
	}
}

// Ring is a fixed-size buffer of the most recent points. It is safe for
// concurrent use.
type Ring struct {
	mu      sync.Mutex
	entries []entry
	next    int // index the next Add writes
	size    int // number of valid entries, at most len(entries)
}

// New returns an empty ring holding at most capacity points. A capacity
// below 1 is raised to 1.
func New(capacity int) *Ring {
	return &Ring{entries: make([]entry, max(capacity, 1))}
}

// CapacityFor returns the capacity that keeps history worth of points taken
// every interval (at least 1).
func CapacityFor(history, interval time.Duration) int {
	if interval <= 0 || history <= 0 {
		return 1
	}
	return max(int(history/interval), 1)
}

// Cap returns the most points the ring holds.
func (r *Ring) Cap() int { return len(r.entries) }

// Len returns the number of points the ring holds now.
func (r *Ring) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.size
}

// Add appends p, overwriting the oldest point when the ring is full. It
// copies the values p points to. Non-finite values (NaN, ±Inf) are stored
// as absent, since JSON cannot carry them; the quantiles are absent if any
// of them is non-finite.
func (r *Ring) Add(p Point) {
	e := entry{time: p.Time, up: p.TargetUp, restarted: p.Restarted}
	for i, f := range p.scalars() {
		if v := *f; v != nil && finite(*v) {
			e.values[i], e.present[i] = *v, true
		}
	}
	if q := p.GCPauseQuantiles; q != nil {
		e.quantiles, e.hasQuants = *q, true
		for _, v := range q {
			e.hasQuants = e.hasQuants && finite(v)
		}
	}
	r.mu.Lock()
	r.entries[r.next] = e
	r.next = (r.next + 1) % len(r.entries)
	r.size = min(r.size+1, len(r.entries))
	r.mu.Unlock()
}

// Points returns the points oldest first. The result and everything it
// points to are fresh copies the caller may keep or change.
func (r *Ring) Points() []Point {
	r.mu.Lock()
	es := make([]entry, r.size)
	start := (r.next - r.size + len(r.entries)) % len(r.entries)
	n := copy(es, r.entries[start:min(start+r.size, len(r.entries))])
	copy(es[n:], r.entries[:r.size-n])
	r.mu.Unlock()

	// One backing array for every value keeps this to a few allocations.
	values := make([]float64, 0, len(es)*numFields)
	quants := make([][5]float64, 0, len(es))
	points := make([]Point, len(es))
	for i := range es {
		e := &es[i]
		p := &points[i]
		p.Time, p.TargetUp, p.Restarted = e.time, e.up, e.restarted
		for j, f := range p.scalars() {
			if e.present[j] {
				values = append(values, e.values[j])
				*f = &values[len(values)-1]
			}
		}
		if e.hasQuants {
			quants = append(quants, e.quantiles)
			p.GCPauseQuantiles = &quants[len(quants)-1]
		}
	}
	return points
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
