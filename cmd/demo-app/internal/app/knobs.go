package app

import (
	"fmt"
	"sync"
)

// Limits on the knobs, so that a typo answers 400 instead of taking the
// machine down.
const (
	maxGoroutinesPerRequest = 100_000
	maxParkedGoroutines     = 1_000_000
	maxAllocPerRequest      = 1 << 30
	maxKeptBytes            = 4 << 30
	allocChunk              = 64 << 10
	pageSize                = 4 << 10
)

// Knobs are what the app server's knobs move. The zero value is ready to
// use.
type Knobs struct {
	// Goroutines are parked and stopped by POST and DELETE /goroutines.
	Goroutines Parker
	// Memory is allocated and released by POST and DELETE /alloc.
	Memory Allocator
	// Leak leaks goroutines: POST and DELETE /leak.
	Leak Leaker
	// Growth grows the live heap toward a total: POST and DELETE /grow.
	Growth Grower
	// GCChurn makes the GC busy: POST and DELETE /gc-churn.
	GCChurn GCChurner
	// Burn keeps goroutines on the CPU: POST and DELETE /burn.
	Burn Burner
}

// StopAll turns every knob back: parked and leaked goroutines exit, kept
// memory is dropped, growth and churn stop.
func (k *Knobs) StopAll() {
	k.Goroutines.StopAll()
	k.Memory.Release()
	k.Leak.Stop()
	k.Growth.Stop()
	k.GCChurn.Stop()
	k.Burn.Stop()
}

// Parker keeps goroutines blocked until told to stop. It is safe for
// concurrent use.
type Parker struct {
	mu     sync.Mutex
	stop   chan struct{} // closed by StopAll; nil when nothing is parked
	parked int
	exited sync.WaitGroup
}

// Start starts n goroutines that block until StopAll, waits until each is
// running and returns how many are parked in total.
func (p *Parker) Start(n int) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n < 1 || n > maxGoroutinesPerRequest {
		return p.parked, fmt.Errorf("start %d goroutines: want 1 to %d per request", n, maxGoroutinesPerRequest)
	}
	if p.parked+n > maxParkedGoroutines {
		return p.parked, fmt.Errorf("start %d goroutines: %d are parked and at most %d may be", n, p.parked, maxParkedGoroutines)
	}
	if p.stop == nil {
		p.stop = make(chan struct{})
	}
	stop := p.stop
	var running sync.WaitGroup
	running.Add(n)
	p.exited.Add(n)
	for range n {
		go func() {
			defer p.exited.Done()
			running.Done()
			<-stop
		}()
	}
	running.Wait()
	p.parked += n
	return p.parked, nil
}

// StopAll stops every parked goroutine, waits until they have exited and
// returns how many there were.
func (p *Parker) StopAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	p.exited.Wait()
	n := p.parked
	p.parked = 0
	return n
}

// Allocator allocates memory on request, either kept live or left as
// garbage. It is safe for concurrent use.
type Allocator struct {
	mu   sync.Mutex
	kept [][]byte
	size int64 // bytes in kept
}

// Alloc allocates n bytes in 64 KiB chunks, touching every page so the
// memory is really used. With keep the chunks stay live until Release;
// otherwise they are garbage on return. It returns the bytes kept in total.
func (a *Allocator) Alloc(n int64, keep bool) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if n < 1 || n > maxAllocPerRequest {
		return a.size, fmt.Errorf("allocate %d bytes: want 1 to %d per request", n, int64(maxAllocPerRequest))
	}
	if keep && a.size+n > maxKeptBytes {
		return a.size, fmt.Errorf("keep %d more bytes: %d are kept and at most %d may be", n, a.size, int64(maxKeptBytes))
	}
	chunks := allocate(n)
	if keep {
		a.kept = append(a.kept, chunks...)
		a.size += n
	}
	return a.size, nil
}

// Kept returns the bytes kept.
func (a *Allocator) Kept() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.size
}

// Release drops the kept memory (the next GC frees it) and returns how many
// bytes were kept.
func (a *Allocator) Release() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.size
	a.kept, a.size = nil, 0
	return n
}

// allocate returns n bytes in chunks of at most allocChunk, every page written.
func allocate(n int64) [][]byte {
	chunks := make([][]byte, 0, n/allocChunk+1)
	for n > 0 {
		c := make([]byte, min(n, allocChunk))
		for i := 0; i < len(c); i += pageSize {
			c[i] = 1
		}
		chunks = append(chunks, c)
		n -= int64(len(c))
	}
	return chunks
}
