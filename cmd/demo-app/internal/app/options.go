package app

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
)

// Mode selects what the debug server exposes.
type Mode string

// The debug server modes.
const (
	// ModeExpvar serves expvar's /debug/vars and net/http/pprof under
	// /debug/pprof/: the typical Go service.
	ModeExpvar Mode = "expvar"
	// ModePrometheus serves only client_golang's /metrics.
	ModePrometheus Mode = "prometheus"
	// ModePprof serves only net/http/pprof under /debug/pprof/.
	ModePprof Mode = "pprof"
)

// Options are the demo app's settings, one per command-line flag.
type Options struct {
	// DebugAddress is where the debug server listens (host:port; port 0 picks one).
	DebugAddress string
	// Address is where the app server (knobs and self-report) listens.
	Address string
	// Mode selects what the debug server exposes.
	Mode Mode
	// CPUMetrics makes client_golang's Go collector expose runtime/metrics'
	// CPU classes too (go_cpu_classes_*), as an app that enables its
	// runtime/metrics collection does; ModePrometheus only.
	CPUMetrics bool
	// ChurnGoroutines makes the app oscillate a few hundred goroutines in the background.
	ChurnGoroutines bool
	// AllocRate is how many bytes per second the app allocates (as garbage)
	// in the background; 0 is off.
	AllocRate ByteSize
	// LeakRate is how many goroutines per second the app leaks from the
	// start, as POST /leak does; 0 is off.
	LeakRate int
	// GrowRate and GrowUpTo grow the live heap from the start, as POST
	// /grow does; a GrowRate of 0 is off.
	GrowRate, GrowUpTo ByteSize
	// GCChurnRate churns garbage around a live set of pointers from the
	// start, as POST /gc-churn does; 0 is off.
	GCChurnRate ByteSize
}

// DefaultOptions returns the options used when no flag is given.
func DefaultOptions() Options {
	return Options{DebugAddress: "127.0.0.1:6060", Address: "127.0.0.1:8080", Mode: ModeExpvar}
}

// AddFlags registers a flag for each option on fs, with o's values as defaults.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.DebugAddress, "debug-address", o.DebugAddress, "listen address of the debug server (expvar, pprof or /metrics)")
	fs.StringVar(&o.Address, "address", o.Address, "listen address of the app server (knobs, /self, /healthz)")
	fs.StringVar((*string)(&o.Mode), "mode", string(o.Mode), "what the debug server exposes: expvar (expvar + pprof), prometheus (/metrics only) or pprof (pprof only)")
	fs.BoolVar(&o.CPUMetrics, "cpu-metrics", o.CPUMetrics, "with --mode=prometheus, also expose runtime/metrics' CPU classes (go_cpu_classes_*), the GC's CPU among them")
	fs.BoolVar(&o.ChurnGoroutines, "churn-goroutines", o.ChurnGoroutines, "oscillate a few hundred goroutines in the background")
	fs.Var(&o.AllocRate, "alloc-rate", "allocate this many bytes per second in the background, e.g. 1MiB/s or 1048576 (0 = off)")
	fs.IntVar(&o.LeakRate, "leak-rate", o.LeakRate, "leak this many goroutines per second from the start, as POST /leak does (0 = off)")
	fs.Var(&o.GrowRate, "grow-rate", "grow the live heap by this many bytes per second from the start, up to --grow-up-to, as POST /grow does (0 = off)")
	fs.Var(&o.GrowUpTo, "grow-up-to", "the live heap --grow-rate grows to, e.g. 100MiB")
	fs.Var(&o.GCChurnRate, "gc-churn-rate", "allocate this many bytes of garbage per second around a 16 MiB live set of pointers from the start, as POST /gc-churn does (0 = off)")
}

// Validate reports every invalid option.
func (o *Options) Validate() error {
	var errs []error
	for _, a := range []struct{ flag, value string }{{"debug-address", o.DebugAddress}, {"address", o.Address}} {
		if _, _, err := net.SplitHostPort(a.value); err != nil {
			errs = append(errs, fmt.Errorf("--%s %q: want host:port: %w", a.flag, a.value, err))
		}
	}
	switch o.Mode {
	case ModeExpvar, ModePrometheus, ModePprof:
	default:
		errs = append(errs, fmt.Errorf("--mode %q: want %s, %s or %s", o.Mode, ModeExpvar, ModePrometheus, ModePprof))
	}
	if o.CPUMetrics && o.Mode != ModePrometheus {
		errs = append(errs, fmt.Errorf("--cpu-metrics needs --mode=%s", ModePrometheus))
	}
	for _, r := range []struct {
		flag string
		rate ByteSize
	}{{"alloc-rate", o.AllocRate}, {"grow-rate", o.GrowRate}, {"gc-churn-rate", o.GCChurnRate}} {
		if r.rate > maxAllocRate {
			errs = append(errs, fmt.Errorf("--%s %s: at most %s per second", r.flag, r.rate, maxAllocRate))
		}
	}
	if o.LeakRate < 0 || o.LeakRate > maxLeakRate {
		errs = append(errs, fmt.Errorf("--leak-rate %d: want 0 to %d goroutines per second", o.LeakRate, maxLeakRate))
	}
	switch {
	case o.GrowRate > 0 && o.GrowUpTo == 0:
		errs = append(errs, fmt.Errorf("--grow-rate %s needs --grow-up-to", o.GrowRate))
	case o.GrowUpTo > maxKeptBytes:
		errs = append(errs, fmt.Errorf("--grow-up-to %s: at most %s", o.GrowUpTo, ByteSize(maxKeptBytes)))
	}
	return errors.Join(errs...)
}

// maxAllocRate bounds --alloc-rate so a typo cannot exhaust the machine.
const maxAllocRate ByteSize = 1 << 30

// ByteSize is a number of bytes, written as an integer or with a unit
// (B, KB, MB, GB, KiB, MiB, GiB) and, for rates, an optional "/s".
type ByteSize int64

// String formats b with the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		name string
		size ByteSize
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && b%u.size == 0 {
			return strconv.FormatInt(int64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// Set parses s with ParseByteSize; it makes ByteSize a flag.Value.
func (b *ByteSize) Set(s string) error {
	v, err := ParseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
	"ki": 1 << 10, "kib": 1 << 10, "mi": 1 << 20, "mib": 1 << 20, "gi": 1 << 30, "gib": 1 << 30,
}

// ParseByteSize parses "4096", "64KiB", "1.5MB" or "1MiB/s" (a trailing
// "/s" is accepted so rates read naturally). Units are case-insensitive.
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("parse size %q: want a number of bytes such as 4096 or 1MiB", s)
	}
	mult, ok := byteUnits[unit]
	if !ok {
		return 0, fmt.Errorf("parse size %q: unknown unit %q (want B, KB, MB, GB, KiB, MiB or GiB)", s, strings.TrimSpace(t[i:]))
	}
	if v*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("parse size %q: too large", s)
	}
	return ByteSize(v * mult), nil
}
