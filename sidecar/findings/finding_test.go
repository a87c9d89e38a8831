package findings

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAnIdleAppUnderAMemoryLimitRaisesOnlyTheGOMEMLIMITAdvice(t *testing.T) {
	app := &gcApp{}
	s := newSim(t, DefaultOptions(), Limits{MemoryBytes: 128 * mib, CPU: 1, NumCPU: 4})
	s.run(10*time.Minute, func(time.Duration) Observation {
		o := app.step(0.001)
		o.Goroutines, o.HeapBytes, o.RuntimeBytes = f(8), f(3*mib), f(9*mib)
		o.GOMEMLIMIT, o.GOMAXPROCS = f(float64(1<<63-1)), f(2)
		return o
	})
	var kinds []Kind
	for k := range s.first {
		kinds = append(kinds, k)
	}
	if len(kinds) != 1 || kinds[0] != NoGOMEMLIMIT {
		t.Errorf("raised %v, want only %s", kinds, NoGOMEMLIMIT)
	}
	if fd, _ := s.active(NoGOMEMLIMIT); fd.Since != t0 || fd.Evidence.To != t0.Add(s.at-time.Second) {
		t.Errorf("since %s with evidence to %s, want since the first sample with evidence of the last", fd.Since, fd.Evidence.To)
	}
}

func TestActiveFindingsAreSortedByKindAndEachHasAdvice(t *testing.T) {
	s := newSim(t, DefaultOptions(), Limits{MemoryBytes: 100 * mib, CPU: 1, NumCPU: 8})
	app := &gcApp{}
	s.run(5*time.Minute, func(at time.Duration) Observation {
		o := app.step(0.5)
		o.Goroutines, o.HeapBytes, o.GOMAXPROCS = f(10+5*at.Seconds()), f(99*mib), f(8)
		return o
	})
	want := []Kind{GCPressure, GOMAXPROCSAboveCPULimit, GoroutineLeak, MemoryNearLimit, NoGOMEMLIMIT}
	if len(s.now) != len(want) {
		t.Fatalf("active %v, want %v", s.now, want)
	}
	for i, fd := range s.now {
		if fd.Kind != want[i] {
			t.Errorf("finding %d is %s, want %s", i, fd.Kind, want[i])
		}
		if fd.Advice == "" || strings.Contains(fd.Advice, "\n") || len(fd.Evidence.Figures) == 0 || fd.Severity == "" {
			t.Errorf("%s: want one line of advice, a severity and figures, got %+v", fd.Kind, fd)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{name: "a zero leak window", change: func(o *Options) { o.LeakWindow = 0 }, want: "leak window must be positive"},
		{name: "a single leak window", change: func(o *Options) { o.LeakWindows = 1 }, want: "leak windows must be from 2 to 100"},
		{name: "a thousand leak windows", change: func(o *Options) { o.LeakWindows = 1000 }, want: "leak windows must be from 2 to 100"},
		{name: "a day-long GC window", change: func(o *Options) { o.GCWindow = 24 * time.Hour }, want: "GC window must be positive and at most 1h0m0s"},
		{name: "no leak growth", change: func(o *Options) { o.LeakMinGrowth = 0 }, want: "leak minimum growth"},
		{name: "a memory share above 1", change: func(o *Options) { o.MemoryShare = 1.5 }, want: "memory share must be in (0, 1]"},
		{name: "a critical share below the share", change: func(o *Options) { o.MemoryCriticalShare = 0.5 }, want: "below memory share"},
		{name: "a NaN GC share", change: func(o *Options) { o.GCShare = zero / zero }, want: "GC share must be in (0, 1]"},
		{name: "a negative GC window", change: func(o *Options) { o.GCWindow = -time.Second }, want: "GC window must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			tt.change(&opts)
			err := opts.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if _, err := New(opts, Limits{}); err == nil {
				t.Error("New accepted options that do not validate")
			}
		})
	}
}

var zero float64

func TestNaNAndInfiniteFiguresCountAsMissing(t *testing.T) {
	s := newSim(t, DefaultOptions(), Limits{MemoryBytes: 128 * mib, CPU: 1, NumCPU: 4})
	nan, inf := zero/zero, 1/zero
	s.run(5*time.Minute, func(at time.Duration) Observation {
		return Observation{
			Goroutines: f(10 + 5*at.Seconds()), HeapBytes: f(inf), RuntimeBytes: f(nan),
			GCCPU: f(nan), AvailableCPU: f(at.Seconds()), GOMEMLIMIT: f(nan), GOMAXPROCS: f(inf),
		}
	})
	var kinds []Kind
	for _, fd := range s.now {
		kinds = append(kinds, fd.Kind)
		if _, err := json.Marshal(fd); err != nil {
			t.Errorf("%s does not encode: %v", fd.Kind, err)
		}
	}
	// The leak is real; the unverified hint stands in for the NaN GOMEMLIMIT.
	if want := []Kind{GoroutineLeak, NoGOMEMLIMIT}; !slices.Equal(kinds, want) {
		t.Errorf("active %v, want %v", kinds, want)
	}
	if fd, _ := s.active(NoGOMEMLIMIT); fd.Severity != Info {
		t.Errorf("no_gomemlimit severity %s, want info", fd.Severity)
	}
}
