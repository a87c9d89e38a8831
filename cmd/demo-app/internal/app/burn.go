package app

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// maxBurners bounds the CPU burn knob's goroutines.
const maxBurners = 64

// Burner keeps goroutines busy on the CPU, for a CPU profile to find: every
// one of them spends its time in BurnCPU. It is safe for concurrent use.
type Burner struct {
	mu   sync.Mutex
	n    int
	stop chan struct{} // closed to stop burning; nil when not burning
	done sync.WaitGroup
}

// Start runs n burning goroutines in place of any started before.
func (b *Burner) Start(n int) error {
	if n < 1 || n > maxBurners {
		return fmt.Errorf("burn on %d goroutines: want 1 to %d", n, maxBurners)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopBurning()
	b.n, b.stop = n, make(chan struct{})
	for range n {
		b.done.Go(func() { BurnCPU(b.stop) })
	}
	return nil
}

// Stop stops burning; it returns how many goroutines burned.
func (b *Burner) Stop() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.n
	b.stopBurning()
	return n
}

func (b *Burner) stopBurning() {
	if b.stop == nil {
		return
	}
	close(b.stop)
	b.done.Wait()
	b.n, b.stop = 0, nil
}

// BurnCPU computes until stop is closed: the app's hot function, by name,
// in a CPU profile.
func BurnCPU(stop <-chan struct{}) {
	x := 1.0
	for {
		select {
		case <-stop:
			return
		default:
		}
		for i := range 100_000 {
			x = math.Sqrt(x + float64(i))
		}
		runtime.KeepAlive(x) // the computation is the point: keep it
	}
}
