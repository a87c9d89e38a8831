package app

import (
	"math"
	"runtime/metrics"
	"testing"
)

func TestHistogramSum(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name string
		h    metrics.Float64Histogram
		want float64
	}{
		{name: "an empty histogram sums to zero", h: metrics.Float64Histogram{Counts: []uint64{0, 0}, Buckets: []float64{0, 1, 2}}},
		{name: "buckets count at their midpoints", h: metrics.Float64Histogram{Counts: []uint64{2, 3}, Buckets: []float64{0, 1, 3}}, want: 2*0.5 + 3*2},
		{name: "open buckets count at their finite bound", h: metrics.Float64Histogram{Counts: []uint64{1, 2, 4}, Buckets: []float64{-inf, 1, 2, inf}}, want: 1*1 + 2*1.5 + 4*2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := histogramSum(&tt.h); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("histogramSum = %v, want %v", got, tt.want)
			}
		})
	}
}
