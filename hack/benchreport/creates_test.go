package main

import (
	"testing"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen"
)

// latencies is a result of 100 creates that took 1..100 times unit.
func latencies(unit, offset time.Duration) *loadgen.Result {
	r := &loadgen.Result{}
	for i := 1; i <= 100; i++ {
		r.Latencies = append(r.Latencies, time.Duration(i)*unit+offset)
	}
	r.Requests = len(r.Latencies)
	return r
}

func TestCreateRowJudgesWhatTheWebhookAddsAtP99(t *testing.T) {
	c := createCase{label: "typical pod", rate: 100, target: 2 * time.Millisecond}
	tests := []struct {
		name          string
		with, without *loadgen.Result
		want          verdict
		wantVs        string
	}{
		{name: "1.5 ms more at p99 is within 2 ms", with: latencies(100*time.Microsecond, 1500*time.Microsecond), without: latencies(100*time.Microsecond, 0),
			want: met, wantVs: "p99 +1.50ms (p50 +1.50ms)"},
		{name: "2.5 ms more at p99 misses", with: latencies(125*time.Microsecond, 0), without: latencies(100*time.Microsecond, 0),
			want: missed, wantVs: "p99 +2.48ms (p50 +1.25ms)"},
		{name: "no creates at all misses", with: &loadgen.Result{}, without: latencies(100*time.Microsecond, 0), want: missed, wantVs: "p99 −9.90ms (p50 −5.00ms)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := &table{}
			createRow(tb, c, tt.without, tt.with)
			if r := tb.rows[0]; r.verdict != tt.want || r.ratio != tt.wantVs {
				t.Errorf("verdict %s, vs floor %q; want %s, %q", r.verdict, r.ratio, tt.want, tt.wantVs)
			}
		})
	}
}
