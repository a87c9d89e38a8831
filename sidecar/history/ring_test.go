package history

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2025, 11, 26, 13, 0, 0, 0, time.UTC)

func f(v float64) *float64 { return &v }

// goroutinesPoint is a point at t0+i seconds with i goroutines.
func goroutinesPoint(i int) Point {
	return Point{Time: t0.Add(time.Duration(i) * time.Second), Goroutines: f(float64(i)), TargetUp: true}
}

func goroutineCounts(points []Point) []float64 {
	var out []float64
	for _, p := range points {
		out = append(out, *p.Goroutines)
	}
	return out
}

func TestRingKeepsTheNewestPointsOldestFirst(t *testing.T) {
	tests := []struct {
		name     string
		capacity int
		adds     int
		want     []float64
	}{
		{name: "an empty ring has no points", capacity: 3, adds: 0, want: nil},
		{name: "a partly filled ring keeps every point", capacity: 3, adds: 2, want: []float64{0, 1}},
		{name: "a full ring keeps every point", capacity: 3, adds: 3, want: []float64{0, 1, 2}},
		{name: "one more point overwrites the oldest", capacity: 3, adds: 4, want: []float64{1, 2, 3}},
		{name: "after wrapping twice the newest remain", capacity: 3, adds: 8, want: []float64{5, 6, 7}},
		{name: "a capacity of one keeps the last point", capacity: 1, adds: 5, want: []float64{4}},
		{name: "a capacity below one is raised to one", capacity: 0, adds: 2, want: []float64{1}},
		{name: "a negative capacity is raised to one", capacity: -4, adds: 2, want: []float64{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.capacity)
			for i := range tt.adds {
				r.Add(goroutinesPoint(i))
			}
			got := r.Points()
			if diff := cmp.Diff(tt.want, goroutineCounts(got)); diff != "" {
				t.Errorf("goroutines per point (-want +got):\n%s", diff)
			}
			if r.Len() != len(tt.want) {
				t.Errorf("Len() = %d, want %d", r.Len(), len(tt.want))
			}
			if wantCap := max(tt.capacity, 1); r.Cap() != wantCap {
				t.Errorf("Cap() = %d, want %d", r.Cap(), wantCap)
			}
		})
	}
}

func TestRingRoundTripsEveryField(t *testing.T) {
	full := Point{
		Time: t0, Goroutines: f(12), Threads: f(9), HeapInuseBytes: f(4 << 20),
		HeapAllocBytes: f(3 << 20), HeapSysBytes: f(8 << 20), AllocBytesTotal: f(1e9),
		GCCount: f(300), GCPauseQuantiles: &[5]float64{1e-5, 2e-5, 3e-5, 4e-5, 5e-4},
		TargetUp: true, Restarted: true,
	}
	down := Point{Time: t0.Add(time.Second)}
	partial := Point{Time: t0.Add(2 * time.Second), Goroutines: f(3), TargetUp: true}
	r := New(4)
	for _, p := range []Point{full, down, partial} {
		r.Add(p)
	}
	if diff := cmp.Diff([]Point{full, down, partial}, r.Points()); diff != "" {
		t.Errorf("Points() (-want +got):\n%s", diff)
	}
}

func TestRingSharesNoMemoryWithCallers(t *testing.T) {
	r := New(2)
	g := 10.0
	q := [5]float64{1, 2, 3, 4, 5}
	r.Add(Point{Time: t0, Goroutines: &g, GCPauseQuantiles: &q})
	g, q[0] = 99, 99 // the caller reuses its variables

	first := r.Points()
	*first[0].Goroutines = 77
	first[0].GCPauseQuantiles[1] = 77
	first[0].Time = time.Time{}

	want := []Point{{Time: t0, Goroutines: f(10), GCPauseQuantiles: &[5]float64{1, 2, 3, 4, 5}}}
	if diff := cmp.Diff(want, r.Points()); diff != "" {
		t.Errorf("Points() after callers changed their copies (-want +got):\n%s", diff)
	}
}

func TestRingStoresNonFiniteValuesAsAbsent(t *testing.T) {
	r := New(1)
	r.Add(Point{
		Time: t0, Goroutines: f(math.NaN()), Threads: f(math.Inf(1)), HeapInuseBytes: f(5),
		GCPauseQuantiles: &[5]float64{0, 0, math.NaN(), 0, 0}, TargetUp: true,
	})
	want := []Point{{Time: t0, HeapInuseBytes: f(5), TargetUp: true}}
	if diff := cmp.Diff(want, r.Points()); diff != "" {
		t.Errorf("Points() (-want +got):\n%s", diff)
	}
}

func TestCapacityFor(t *testing.T) {
	tests := []struct {
		name              string
		history, interval time.Duration
		want              int
	}{
		{name: "an hour at ten seconds is 360 points", history: time.Hour, interval: 10 * time.Second, want: 360},
		{name: "a history shorter than the interval keeps one point", history: time.Second, interval: 10 * time.Second, want: 1},
		{name: "a remainder is dropped", history: 25 * time.Second, interval: 10 * time.Second, want: 2},
		{name: "a zero interval keeps one point", history: time.Hour, interval: 0, want: 1},
		{name: "a negative history keeps one point", history: -time.Hour, interval: time.Second, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CapacityFor(tt.history, tt.interval); got != tt.want {
				t.Errorf("CapacityFor(%v, %v) = %d, want %d", tt.history, tt.interval, got, tt.want)
			}
		})
	}
}

// TestRingConcurrentAddAndPoints is meant for -race: writers and readers at
// once. Each writer adds increasing values of its own, so every snapshot must
// hold distinct values and each writer's values in the order it added them.
func TestRingConcurrentAddAndPoints(t *testing.T) {
	const writers, perWriter, capacity = 4, 500, 64
	r := New(capacity)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				r.Add(goroutinesPoint(w*perWriter + i))
			}
		})
	}
	problems := make(chan string, 2)
	for range 2 {
		wg.Go(func() {
			for range 200 {
				if msg := checkSnapshot(goroutineCounts(r.Points()), capacity, perWriter); msg != "" {
					problems <- msg
					return
				}
			}
		})
	}
	wg.Wait()
	close(problems)
	for msg := range problems {
		t.Error(msg)
	}
	final := goroutineCounts(r.Points())
	if len(final) != capacity {
		t.Errorf("after %d adds the ring holds %d points, want %d", writers*perWriter, len(final), capacity)
	}
	if msg := checkSnapshot(final, capacity, perWriter); msg != "" {
		t.Error(msg)
	}
}

// checkSnapshot returns what is wrong with a snapshot of values written as
// writer*perWriter+i, or "".
func checkSnapshot(values []float64, capacity, perWriter int) string {
	if len(values) > capacity {
		return fmt.Sprintf("snapshot of %d points exceeds capacity %d", len(values), capacity)
	}
	seen := map[float64]bool{}
	last := map[int]float64{}
	for _, v := range values {
		if seen[v] {
			return fmt.Sprintf("value %v appears twice in %v", v, values)
		}
		seen[v] = true
		w := int(v) / perWriter
		if prev, ok := last[w]; ok && v <= prev {
			return fmt.Sprintf("writer %d's values out of order in %v", w, values)
		}
		last[w] = v
	}
	return ""
}

func BenchmarkAdd(b *testing.B) {
	r := New(360)
	p := Point{
		Time: t0, Goroutines: f(12), Threads: f(9), HeapInuseBytes: f(4 << 20),
		HeapAllocBytes: f(3 << 20), HeapSysBytes: f(8 << 20), AllocBytesTotal: f(1e9),
		GCCount: f(300), GCPauseQuantiles: &[5]float64{1e-5, 2e-5, 3e-5, 4e-5, 5e-4}, TargetUp: true,
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Add(p)
	}
}

func BenchmarkPoints(b *testing.B) {
	r := New(360)
	for i := range 360 {
		r.Add(goroutinesPoint(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = r.Points()
	}
}
