package normalize

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/gopherscope/gopherscope/sidecar/source"
)

// values flattens families into "series value" lines, for comparisons.
func values(fams []*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := seriesKey(f.GetName(), m.GetLabel())
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetUntyped() != nil:
				out[key] = m.GetUntyped().GetValue()
			case m.GetSummary() != nil:
				out[key+"_count"] = float64(m.GetSummary().GetSampleCount())
				out[key+"_sum"] = m.GetSummary().GetSampleSum()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
				for _, b := range m.GetHistogram().GetBucket() {
					out[key+"_bucket"+strings.TrimRight(strings.TrimRight(b.String(), " "), "}")] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out
}

func pick(all map[string]float64, keys ...string) map[string]float64 {
	out := map[string]float64{}
	for _, k := range keys {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

func promFamilies(t *testing.T, text string) []*dto.MetricFamily {
	t.Helper()
	fams, _, err := source.ParsePrometheus(strings.NewReader(text), expfmt.NewFormat(expfmt.TypeTextPlain))
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

func expvarData(cmdline uint64, totalAlloc uint64, numGC uint32, pauseTotal uint64) *source.ExpvarData {
	d := &source.ExpvarData{CmdlineHash: cmdline}
	d.MemStats.TotalAlloc, d.MemStats.NumGC, d.MemStats.PauseTotalNs = totalAlloc, numGC, pauseTotal
	d.MemStats.Mallocs, d.MemStats.HeapInuse = totalAlloc/10, totalAlloc/2
	return d
}

func TestNormalizePicksOneSourcePerFamily(t *testing.T) {
	n := New()
	out := n.Normalize(Input{
		Expvar:     expvarData(1, 1000, 5, 0),
		Profiles:   &source.ProfileCounts{Goroutines: 10, Threads: 4, HasGoroutines: true, HasThreads: true},
		Prometheus: promFamilies(t, "go_goroutines 99\ngo_memstats_heap_inuse_bytes 7\ngo_info{version=\"go1.26\"} 1\nprocess_open_fds 3\n"),
	})
	seen := map[string]bool{}
	for _, f := range out.Families {
		if seen[f.GetName()] {
			t.Errorf("family %s appears twice", f.GetName())
		}
		seen[f.GetName()] = true
	}
	got := pick(values(out.Families), "go_goroutines", "go_threads", "go_memstats_heap_inuse_bytes", "go_memstats_alloc_bytes_total", "go_info|version=go1.26", "process_open_fds")
	want := map[string]float64{
		"go_goroutines":                 99,   // the app's exposition over the pprof index
		"go_threads":                    4,    // only the pprof index has it
		"go_memstats_heap_inuse_bytes":  7,    // the app's exposition over expvar
		"go_memstats_alloc_bytes_total": 1000, // only expvar has it here
		"go_info|version=go1.26":        1,
		"process_open_fds":              3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if out.Restarted {
		t.Error("the first sample is a restart")
	}
}

func TestNormalizeKeepsCountersMonotonicAcrossRestarts(t *testing.T) {
	keys := []string{"go_memstats_alloc_bytes_total", "go_memstats_heap_inuse_bytes", "go_gc_duration_seconds_count", "go_gc_duration_seconds_sum"}
	type step struct {
		in        Input
		want      map[string]float64
		restarted bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "counters going down mean a restart; the old totals become offsets",
			steps: []step{
				{in: Input{Expvar: expvarData(1, 1000, 10, 2e9)}, want: map[string]float64{"go_memstats_alloc_bytes_total": 1000, "go_memstats_heap_inuse_bytes": 500, "go_gc_duration_seconds_count": 10, "go_gc_duration_seconds_sum": 2}},
				{in: Input{Expvar: expvarData(1, 100, 2, 1e9)}, restarted: true, want: map[string]float64{"go_memstats_alloc_bytes_total": 1100, "go_memstats_heap_inuse_bytes": 50, "go_gc_duration_seconds_count": 12, "go_gc_duration_seconds_sum": 3}},
				{in: Input{Expvar: expvarData(1, 300, 3, 1.5e9)}, want: map[string]float64{"go_memstats_alloc_bytes_total": 1300, "go_memstats_heap_inuse_bytes": 150, "go_gc_duration_seconds_count": 13, "go_gc_duration_seconds_sum": 3.5}},
			},
		},
		{
			name: "a new command line is a restart even when counters grew",
			steps: []step{
				{in: Input{Expvar: expvarData(1, 1000, 10, 0)}, want: map[string]float64{"go_memstats_alloc_bytes_total": 1000, "go_memstats_heap_inuse_bytes": 500, "go_gc_duration_seconds_count": 10, "go_gc_duration_seconds_sum": 0}},
				{in: Input{Expvar: expvarData(2, 5000, 20, 0)}, restarted: true, want: map[string]float64{"go_memstats_alloc_bytes_total": 6000, "go_memstats_heap_inuse_bytes": 2500, "go_gc_duration_seconds_count": 30, "go_gc_duration_seconds_sum": 0}},
			},
		},
		{
			name: "samples without data change nothing, and a restart while down is still seen",
			steps: []step{
				{in: Input{Expvar: expvarData(1, 1000, 10, 0)}, want: map[string]float64{"go_memstats_alloc_bytes_total": 1000, "go_memstats_heap_inuse_bytes": 500, "go_gc_duration_seconds_count": 10, "go_gc_duration_seconds_sum": 0}},
				{in: Input{}, want: map[string]float64{}},
				{in: Input{Expvar: expvarData(1, 10, 1, 0)}, restarted: true, want: map[string]float64{"go_memstats_alloc_bytes_total": 1010, "go_memstats_heap_inuse_bytes": 5, "go_gc_duration_seconds_count": 11, "go_gc_duration_seconds_sum": 0}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New()
			restarts := uint64(0)
			for i, s := range tt.steps {
				out := n.Normalize(s.in)
				if s.restarted {
					restarts++
				}
				if out.Restarted != s.restarted || n.Restarts() != restarts {
					t.Errorf("step %d: restarted = %v (total %d), want %v (total %d)", i, out.Restarted, n.Restarts(), s.restarted, restarts)
				}
				if diff := cmp.Diff(s.want, pick(values(out.Families), keys...)); diff != "" {
					t.Errorf("step %d: values (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestNormalizeOffsetsPassedThroughCountersAndHistograms(t *testing.T) {
	before := "process_start_time_seconds 100\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 50\n" +
		"# TYPE go_sched_latencies_seconds histogram\ngo_sched_latencies_seconds_bucket{le=\"1\"} 40\ngo_sched_latencies_seconds_bucket{le=\"+Inf\"} 45\ngo_sched_latencies_seconds_sum 2\ngo_sched_latencies_seconds_count 45\n"
	after := "process_start_time_seconds 200\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 60\n" +
		"# TYPE go_sched_latencies_seconds histogram\ngo_sched_latencies_seconds_bucket{le=\"1\"} 1\ngo_sched_latencies_seconds_bucket{le=\"+Inf\"} 2\ngo_sched_latencies_seconds_sum 0.5\ngo_sched_latencies_seconds_count 2\n"
	n := New()
	n.Normalize(Input{Prometheus: promFamilies(t, before)})
	out := n.Normalize(Input{Prometheus: promFamilies(t, after)})
	if !out.Restarted {
		t.Fatal("a new process_start_time_seconds is not a restart")
	}
	got := values(out.Families)
	want := map[string]float64{
		"process_start_time_seconds":       200, // a gauge: as read
		"process_cpu_seconds_total":        110,
		"go_sched_latencies_seconds_count": 47,
	}
	if diff := cmp.Diff(want, pick(got, "process_start_time_seconds", "process_cpu_seconds_total", "go_sched_latencies_seconds_count")); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	var buckets []float64
	for _, f := range out.Families {
		if f.GetName() == "go_sched_latencies_seconds" {
			h := f.GetMetric()[0].GetHistogram()
			for _, b := range h.GetBucket() {
				buckets = append(buckets, float64(b.GetCumulativeCount()))
			}
			if h.GetSampleSum() != 2.5 {
				t.Errorf("histogram sum = %v, want 2.5", h.GetSampleSum())
			}
		}
	}
	if diff := cmp.Diff([]float64{41, 47}, buckets); diff != "" {
		t.Errorf("histogram buckets (-want +got):\n%s", diff)
	}
}
