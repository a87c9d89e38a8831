package sidecar

import (
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/gopherscope/gopherscope/sidecar/history"
	"github.com/gopherscope/gopherscope/sidecar/normalize"
)

// historyPoint picks the key series of a sample for the history ring. The
// counters are the exposed (restart-adjusted) values.
func historyPoint(t time.Time, up bool, out normalize.Output) history.Point {
	byName := make(map[string]*dto.MetricFamily, len(out.Families))
	for _, f := range out.Families {
		byName[f.GetName()] = f
	}
	p := history.Point{
		Time:            t,
		TargetUp:        up,
		Restarted:       out.Restarted,
		Goroutines:      scalar(byName[normalize.Goroutines]),
		Threads:         scalar(byName[normalize.Threads]),
		HeapInuseBytes:  scalar(byName[normalize.HeapInuseBytes]),
		HeapAllocBytes:  scalar(byName[normalize.HeapAllocBytes]),
		HeapSysBytes:    scalar(byName[normalize.HeapSysBytes]),
		AllocBytesTotal: scalar(byName[normalize.AllocBytesTotal]),
	}
	if f := byName[normalize.GCDuration]; f != nil && f.GetType() == dto.MetricType_SUMMARY && len(f.GetMetric()) == 1 {
		s := f.GetMetric()[0].GetSummary()
		count := float64(s.GetSampleCount())
		p.GCCount = &count
		p.GCPauseQuantiles = quantiles(s)
	}
	return p
}

// scalar is the value of a family's one unlabelled gauge, counter or untyped
// series, or nil.
func scalar(f *dto.MetricFamily) *float64 {
	if f == nil || len(f.GetMetric()) != 1 || len(f.GetMetric()[0].GetLabel()) != 0 {
		return nil
	}
	m := f.GetMetric()[0]
	var v float64
	switch {
	case m.GetGauge() != nil:
		v = m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		v = m.GetCounter().GetValue()
	case m.GetUntyped() != nil:
		v = m.GetUntyped().GetValue()
	default:
		return nil
	}
	return &v
}

// quantiles returns a summary's 0, .25, .5, .75 and 1 quantiles, or nil when
// it lacks any of them.
func quantiles(s *dto.Summary) *[5]float64 {
	var out [5]float64
	found := 0
	for _, q := range s.GetQuantile() {
		for i, want := range [5]float64{0, 0.25, 0.5, 0.75, 1} {
			if q.GetQuantile() == want {
				out[i] = q.GetValue()
				found |= 1 << i
			}
		}
	}
	if found != 1<<5-1 {
		return nil
	}
	return &out
}
