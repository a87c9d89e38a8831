package findings

import (
	"strings"
	"testing"
	"time"
)

func TestALiveHeapAt85To92PercentOf128MiBIsNearTheLimitWithinAMinute(t *testing.T) {
	limit := 128.0 * mib
	s := newSim(t, DefaultOptions(), Limits{MemoryBytes: limit})
	s.run(10*time.Minute, func(at time.Duration) Observation {
		heap := limit * (0.85 + triangle(at, 40*time.Second, 0.07))
		return Observation{HeapBytes: f(heap)}
	})
	if at := s.firstRaised(MemoryNearLimit); at > time.Minute {
		t.Errorf("raised after %s, want within a minute", at)
	}
	if at := s.last[MemoryNearLimit]; at != s.at-time.Second {
		t.Errorf("last active at %s, want at every sample to %s", at, s.at-time.Second)
	}
	fd, _ := s.active(MemoryNearLimit)
	if fd.Severity != Warning {
		t.Errorf("severity %s, want warning", fd.Severity)
	}
	if share := figure(t, fd, "share of the limit"); share < 0.85 || share > 0.92 {
		t.Errorf("share %g, want in [0.85, 0.92]", share)
	}

	s.run(time.Minute, func(time.Duration) Observation { return Observation{HeapBytes: f(limit / 2)} })
	if _, ok := s.active(MemoryNearLimit); ok {
		t.Error("still near the limit after the heap fell to half of it")
	}
}

func TestMemoryGrowingTowardTheLimitGivesTheTimeLeft(t *testing.T) {
	limit := 1000.0 * mib
	s := newSim(t, DefaultOptions(), Limits{MemoryBytes: limit})
	s.run(2*time.Minute, func(at time.Duration) Observation {
		return Observation{RuntimeBytes: f(800*mib + at.Seconds()*mib), HeapBytes: f(500 * mib)}
	})
	fd, ok := s.active(MemoryNearLimit)
	if !ok {
		t.Fatal("not raised at 920 MiB of 1000 MiB")
	}
	if got := figure(t, fd, "Go runtime memory"); got != 919*mib {
		t.Errorf("memory %g MiB, want the runtime's 919", got/mib)
	}
	if left := figure(t, fd, "time left at this growth"); left < 80 || left > 82 {
		t.Errorf("time left %gs, want 81s (81 MiB at 1 MiB/s)", left)
	}
	s.run(time.Minute, func(time.Duration) Observation { return Observation{RuntimeBytes: f(960 * mib)} })
	fd, _ = s.active(MemoryNearLimit)
	if fd.Severity != Critical {
		t.Errorf("severity %s at 96%%, want critical", fd.Severity)
	}
}

func TestHealthyMemoryShapesAreNeverNearTheLimit(t *testing.T) {
	limit := 128.0 * mib
	tests := []struct {
		name   string
		limits Limits
		obs    func(at time.Duration) Observation
	}{
		{
			name:   "a sawtooth heap between 20% and 80% of the limit, for 6 hours",
			limits: Limits{MemoryBytes: limit},
			obs: func(at time.Duration) Observation {
				return Observation{HeapBytes: f(limit * (0.2 + 0.6*float64(at%(45*time.Second))/float64(45*time.Second)))}
			},
		},
		{
			name:   "a steady cache at 80% of the limit",
			limits: Limits{MemoryBytes: limit},
			obs: func(time.Duration) Observation {
				return Observation{HeapBytes: f(0.7 * limit), RuntimeBytes: f(0.8 * limit)}
			},
		},
		{
			name:   "peaks above 85% shorter than the sustain time",
			limits: Limits{MemoryBytes: limit},
			obs: func(at time.Duration) Observation {
				return Observation{HeapBytes: f(limit * (0.3 + triangle(at, 30*time.Second, 0.6)))}
			},
		},
		{
			name:   "any heap without a known limit",
			limits: Limits{},
			obs:    func(time.Duration) Observation { return Observation{HeapBytes: f(64 << 30)} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, DefaultOptions(), tt.limits)
			s.run(6*time.Hour, tt.obs)
			s.expectNever(MemoryNearLimit)
		})
	}
}

func TestNoGOMEMLIMITOnlyWhereAMemoryLimitIsSet(t *testing.T) {
	maxInt64 := float64(1<<63 - 1)
	tests := []struct {
		name         string
		limits       Limits
		obs          Observation
		wantSeverity Severity // empty: not raised
		wantAdvice   string
	}{
		{name: "proven unset under a limit is a warning", limits: Limits{MemoryBytes: 128 * mib}, obs: Observation{GOMEMLIMIT: f(maxInt64)}, wantSeverity: Warning, wantAdvice: "has no memory limit"},
		{name: "unknown under a limit is an unverified hint", limits: Limits{MemoryBytes: 128 * mib}, obs: Observation{HeapBytes: f(mib)}, wantSeverity: Info, wantAdvice: "Unverified"},
		{name: "set in the pod spec and not reported is quiet", limits: Limits{MemoryBytes: 128 * mib, GOMEMLIMITEnv: "100MiB"}, obs: Observation{HeapBytes: f(mib)}},
		{name: "reported set is quiet", limits: Limits{MemoryBytes: 128 * mib}, obs: Observation{GOMEMLIMIT: f(100 * mib)}},
		{name: "proven unset without a limit is quiet", limits: Limits{}, obs: Observation{GOMEMLIMIT: f(maxInt64)}},
		{name: "nothing is said before the app answers", limits: Limits{MemoryBytes: 128 * mib}, obs: Observation{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, DefaultOptions(), tt.limits)
			s.run(time.Second, func(time.Duration) Observation { return tt.obs })
			fd, ok := s.active(NoGOMEMLIMIT)
			if ok != (tt.wantSeverity != "") || fd.Severity != tt.wantSeverity {
				t.Fatalf("active %v with severity %q, want severity %q", ok, fd.Severity, tt.wantSeverity)
			}
			if !strings.Contains(fd.Advice, tt.wantAdvice) {
				t.Errorf("advice %q, want it to contain %q", fd.Advice, tt.wantAdvice)
			}
		})
	}
}

func TestNoGOMEMLIMITClearsWhenTheAppReportsOne(t *testing.T) {
	s := newSim(t, DefaultOptions(), Limits{MemoryBytes: 128 * mib})
	s.run(time.Minute, func(time.Duration) Observation { return Observation{GOMEMLIMIT: f(float64(1<<63 - 1))} })
	fd, ok := s.active(NoGOMEMLIMIT)
	if !ok || fd.Since != t0 {
		t.Fatalf("active %v since %s, want active since the first sample %s", ok, fd.Since, t0)
	}
	// A sample where the exposition failed keeps what was seen.
	s.run(time.Second, func(time.Duration) Observation { return Observation{HeapBytes: f(mib)} })
	if fd, _ := s.active(NoGOMEMLIMIT); fd.Severity != Warning {
		t.Errorf("severity %q after a sample without the limit, want it kept at warning", fd.Severity)
	}
	s.run(time.Second, func(time.Duration) Observation { return Observation{GOMEMLIMIT: f(115 * mib)} })
	if _, ok := s.active(NoGOMEMLIMIT); ok {
		t.Error("still raised after the app reported a limit")
	}
}
