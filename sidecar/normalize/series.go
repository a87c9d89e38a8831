package normalize

import (
	dto "github.com/prometheus/client_model/go"

	"github.com/gopherscope/gopherscope/sidecar/source"
)

// Names of the series the normalizer derives itself (others pass through
// from the app's own exposition under the names it gave them).
const (
	Goroutines       = "go_goroutines"
	Threads          = "go_threads"
	GCDuration       = "go_gc_duration_seconds"
	LastGCTime       = "go_memstats_last_gc_time_seconds"
	AllocBytesTotal  = "go_memstats_alloc_bytes_total"
	HeapAllocBytes   = "go_memstats_heap_alloc_bytes"
	HeapInuseBytes   = "go_memstats_heap_inuse_bytes"
	HeapSysBytes     = "go_memstats_heap_sys_bytes"
	ProcessStartTime = "process_start_time_seconds"
)

// Help texts, identical to client_golang v1.25's Go collector (a test checks
// them against it).
const (
	helpGoroutines = "Number of goroutines that currently exist."
	helpThreads    = "Number of OS threads created."
	helpGCDuration = "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles."
	helpLastGCTime = "Number of seconds since 1970 of last garbage collection."
)

// memStatSeries is one go_memstats_* series derived from runtime.MemStats.
type memStatSeries struct {
	name  string
	help  string
	typ   dto.MetricType
	value func(*source.MemStats) uint64
}

// memStatsSeries are client_golang v1.25's 21 go_memstats_* series (3 of
// them counters), with its names, types and help texts.
var memStatsSeries = []memStatSeries{
	{"go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use. Equals to /memory/classes/heap/objects:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.Alloc }},
	{AllocBytesTotal, "Total number of bytes allocated in heap until now, even if released already. Equals to /gc/heap/allocs:bytes.", dto.MetricType_COUNTER, func(m *source.MemStats) uint64 { return m.TotalAlloc }},
	{"go_memstats_sys_bytes", "Number of bytes obtained from system. Equals to /memory/classes/total:byte.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.Sys }},
	{"go_memstats_mallocs_total", "Total number of heap objects allocated, both live and gc-ed. Semantically a counter version for go_memstats_heap_objects gauge. Equals to /gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects.", dto.MetricType_COUNTER, func(m *source.MemStats) uint64 { return m.Mallocs }},
	{"go_memstats_frees_total", "Total number of heap objects frees. Equals to /gc/heap/frees:objects + /gc/heap/tiny/allocs:objects.", dto.MetricType_COUNTER, func(m *source.MemStats) uint64 { return m.Frees }},
	{HeapAllocBytes, "Number of heap bytes allocated and currently in use, same as go_memstats_alloc_bytes. Equals to /memory/classes/heap/objects:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.HeapAlloc }},
	{HeapSysBytes, "Number of heap bytes obtained from system. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes + /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.HeapSys }},
	{"go_memstats_heap_idle_bytes", "Number of heap bytes waiting to be used. Equals to /memory/classes/heap/released:bytes + /memory/classes/heap/free:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.HeapIdle }},
	{HeapInuseBytes, "Number of heap bytes that are in use. Equals to /memory/classes/heap/objects:bytes + /memory/classes/heap/unused:bytes", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.HeapInuse }},
	{"go_memstats_heap_released_bytes", "Number of heap bytes released to OS. Equals to /memory/classes/heap/released:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.HeapReleased }},
	{"go_memstats_heap_objects", "Number of currently allocated objects. Equals to /gc/heap/objects:objects.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.HeapObjects }},
	{"go_memstats_stack_inuse_bytes", "Number of bytes obtained from system for stack allocator in non-CGO environments. Equals to /memory/classes/heap/stacks:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.StackInuse }},
	{"go_memstats_stack_sys_bytes", "Number of bytes obtained from system for stack allocator. Equals to /memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.StackSys }},
	{"go_memstats_mspan_inuse_bytes", "Number of bytes in use by mspan structures. Equals to /memory/classes/metadata/mspan/inuse:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.MSpanInuse }},
	{"go_memstats_mspan_sys_bytes", "Number of bytes used for mspan structures obtained from system. Equals to /memory/classes/metadata/mspan/inuse:bytes + /memory/classes/metadata/mspan/free:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.MSpanSys }},
	{"go_memstats_mcache_inuse_bytes", "Number of bytes in use by mcache structures. Equals to /memory/classes/metadata/mcache/inuse:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.MCacheInuse }},
	{"go_memstats_mcache_sys_bytes", "Number of bytes used for mcache structures obtained from system. Equals to /memory/classes/metadata/mcache/inuse:bytes + /memory/classes/metadata/mcache/free:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.MCacheSys }},
	{"go_memstats_buck_hash_sys_bytes", "Number of bytes used by the profiling bucket hash table. Equals to /memory/classes/profiling/buckets:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.BuckHashSys }},
	{"go_memstats_gc_sys_bytes", "Number of bytes used for garbage collection system metadata. Equals to /memory/classes/metadata/other:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.GCSys }},
	{"go_memstats_other_sys_bytes", "Number of bytes used for other system allocations. Equals to /memory/classes/other:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.OtherSys }},
	{"go_memstats_next_gc_bytes", "Number of heap bytes when next garbage collection will take place. Equals to /gc/heap/goal:bytes.", dto.MetricType_GAUGE, func(m *source.MemStats) uint64 { return m.NextGC }},
}

// fromExpvar maps runtime.MemStats onto client_golang's series.
func fromExpvar(d *source.ExpvarData) []*dto.MetricFamily {
	ms := &d.MemStats
	out := make([]*dto.MetricFamily, 0, len(memStatsSeries)+2)
	for _, s := range memStatsSeries {
		out = append(out, scalarFamily(s.name, s.help, s.typ, float64(s.value(ms))))
	}
	out = append(out, scalarFamily(LastGCTime, helpLastGCTime, dto.MetricType_GAUGE, float64(ms.LastGC)/1e9))
	q := PauseQuantiles(ms)
	quantiles := make([]*dto.Quantile, len(q))
	for i, v := range q {
		quantiles[i] = &dto.Quantile{Quantile: ptr(float64(i) / float64(len(q)-1)), Value: ptr(v)}
	}
	out = append(out, &dto.MetricFamily{
		Name: ptr(GCDuration), Help: ptr(helpGCDuration), Type: dto.MetricType_SUMMARY.Enum(),
		Metric: []*dto.Metric{{Summary: &dto.Summary{
			SampleCount: ptr(uint64(ms.NumGC)),
			SampleSum:   ptr(nanosToSeconds(ms.PauseTotalNs)),
			Quantile:    quantiles,
		}}},
	})
	return out
}

// fromProfiles maps the pprof index's counts onto go_goroutines and go_threads.
func fromProfiles(c *source.ProfileCounts) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	if c.HasGoroutines {
		out = append(out, scalarFamily(Goroutines, helpGoroutines, dto.MetricType_GAUGE, float64(c.Goroutines)))
	}
	if c.HasThreads {
		out = append(out, scalarFamily(Threads, helpThreads, dto.MetricType_GAUGE, float64(c.Threads)))
	}
	return out
}

// scalarFamily is a family of one unlabelled gauge or counter.
func scalarFamily(name, help string, typ dto.MetricType, v float64) *dto.MetricFamily {
	m := &dto.Metric{}
	if typ == dto.MetricType_COUNTER {
		m.Counter = &dto.Counter{Value: ptr(v)}
	} else {
		m.Gauge = &dto.Gauge{Value: ptr(v)}
	}
	return &dto.MetricFamily{Name: ptr(name), Help: ptr(help), Type: typ.Enum(), Metric: []*dto.Metric{m}}
}

func ptr[T any](v T) *T { return &v }
