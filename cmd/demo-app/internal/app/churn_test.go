package app

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTriangleWaveRisesAndFalls(t *testing.T) {
	var got []int
	for step := range 10 {
		got = append(got, triangleWave(step, 4, 100))
	}
	want := []int{0, 50, 100, 50, 0, 50, 100, 50, 0, 50}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wave (-want +got):\n%s", diff)
	}
}

func TestChurnGoroutinesRisesAndStopsEverythingOnCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { churnGoroutines(ctx, 800*time.Millisecond); close(done) }()

	peak := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && peak < churnPeak; time.Sleep(5 * time.Millisecond) {
		peak = max(peak, runtime.NumGoroutine()-before)
	}
	cancel()
	<-done
	if peak < churnPeak/2 {
		t.Errorf("extra goroutines peaked at %d, want at least %d", peak, churnPeak/2)
	}
	if left := runtime.NumGoroutine() - before; left > 2 {
		t.Errorf("%d extra goroutines left after cancel, want none", left)
	}
}

func TestChurnAllocationsAllocatesAtTheRate(t *testing.T) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	ctx, cancel := context.WithTimeout(t.Context(), 550*time.Millisecond)
	defer cancel()
	churnAllocations(ctx.Done(), 20<<20) // returns when ctx is done
	runtime.ReadMemStats(&ms)
	// 5 ticks of 2 MiB in 550 ms; allow a slow machine to miss a tick or two.
	if got := ms.TotalAlloc - before; got < 6<<20 {
		t.Errorf("allocated %d bytes in 550 ms at 20 MiB/s, want at least 6 MiB", got)
	}
}
