package findings

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestALeakOf5GoroutinesPerSecondIsSuspectedWithin3MinutesAndClearsWhenItStops(t *testing.T) {
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(5*time.Minute, func(at time.Duration) Observation {
		return Observation{Goroutines: f(10 + 5*at.Seconds())}
	})
	if at := s.firstRaised(GoroutineLeak); at > 3*time.Minute {
		t.Errorf("leak raised after %s, want within 3m", at)
	}
	fd, ok := s.active(GoroutineLeak)
	if !ok {
		t.Fatal("leak not active while the count still grows")
	}
	if fd.Severity != Warning {
		t.Errorf("severity %s, want warning", fd.Severity)
	}
	if rate := figure(t, fd, "growth rate"); rate < 4 || rate > 6 {
		t.Errorf("growth rate %g goroutines/s, want about 5", rate)
	}
	if got := fd.Evidence.To.Sub(fd.Evidence.From); got != 4*30*time.Second {
		t.Errorf("evidence window %s, want the 4 windows of 30s", got)
	}

	stopped := s.at
	s.run(3*time.Minute, func(time.Duration) Observation { return Observation{Goroutines: f(1510)} })
	if _, ok := s.active(GoroutineLeak); ok {
		t.Fatal("leak still active 3 minutes after the count stopped growing")
	}
	if cleared := s.last[GoroutineLeak] - stopped; cleared > time.Minute {
		t.Errorf("leak cleared %s after the count stopped growing, want within a minute", cleared)
	}
}

func TestABreathingWorkerPoolIsNeverALeak(t *testing.T) {
	tests := []struct {
		name   string
		period time.Duration
		height float64
		jitter int
	}{
		{name: "a pool that grows by 400 over 10s and shrinks back over 10s, for 6 hours", period: 20 * time.Second, height: 400},
		{name: "the same pool over a base that wanders by up to 5 goroutines", period: 20 * time.Second, height: 400, jitter: 5},
		{name: "a pool that breathes once every 30s", period: 30 * time.Second, height: 1000, jitter: 3},
		{name: "a pool that breathes once a minute", period: time.Minute, height: 200, jitter: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			s := newSim(t, DefaultOptions(), Limits{})
			s.run(6*time.Hour, func(at time.Duration) Observation {
				g := 10 + triangle(at, tt.period, tt.height)
				if tt.jitter > 0 {
					g += float64(rng.IntN(tt.jitter + 1))
				}
				return Observation{Goroutines: f(g)}
			})
			s.expectNever(GoroutineLeak)
		})
	}
}

func TestASteadyAppAndASmallRampAreNotALeak(t *testing.T) {
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(time.Hour, func(time.Duration) Observation { return Observation{Goroutines: f(42)} })
	// A connection pool warming up: 40 goroutines over 4 minutes, then flat.
	s.run(time.Hour, func(at time.Duration) Observation {
		return Observation{Goroutines: f(42 + min(40, (at-time.Hour).Seconds()/6))}
	})
	s.expectNever(GoroutineLeak)
}

func TestALeakIsForgottenWhenTheAppRestarts(t *testing.T) {
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(4*time.Minute, func(at time.Duration) Observation { return Observation{Goroutines: f(10 + 5*at.Seconds())} })
	if _, ok := s.active(GoroutineLeak); !ok {
		t.Fatal("leak not raised")
	}
	restart := s.at
	s.run(time.Second, func(time.Duration) Observation { return Observation{Restarted: true, Goroutines: f(10)} })
	if _, ok := s.active(GoroutineLeak); ok {
		t.Error("leak still active after the app restarted")
	}
	s.run(time.Minute, func(at time.Duration) Observation { return Observation{Goroutines: f(10 + 5*(at-restart).Seconds())} })
	if _, ok := s.active(GoroutineLeak); ok {
		t.Error("leak raised again within a minute of the restart: the old process's windows were kept")
	}
}

func TestMissingGoroutineCountsKeepTheTrend(t *testing.T) {
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(5*time.Minute, func(at time.Duration) Observation {
		if int(at.Seconds())%3 == 0 {
			return Observation{} // the app did not answer
		}
		return Observation{Goroutines: f(10 + 5*at.Seconds())}
	})
	if at := s.firstRaised(GoroutineLeak); at > 3*time.Minute {
		t.Errorf("leak raised after %s, want within 3m", at)
	}
}

// TestAPoolThatGrowsOnceAndStaysIsNotALeak: an idle count that creeps up by
// one a window, then a pool of 500 started at once that stays, is one step,
// not a leak; with the default and with short thresholds.
func TestAPoolThatGrowsOnceAndStaysIsNotALeak(t *testing.T) {
	short, err := ParseOptions("leak-window=2s,leak-windows=3,leak-min-growth=30")
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]Options{"default": DefaultOptions(), "short": short} {
		t.Run(name, func(t *testing.T) {
			s := newSim(t, opts, Limits{})
			creepFor := time.Duration(opts.LeakWindows) * opts.LeakWindow
			s.run(creepFor+10*time.Minute, func(at time.Duration) Observation {
				if at < creepFor {
					return Observation{Goroutines: f(9 + float64(at/opts.LeakWindow))}
				}
				return Observation{Goroutines: f(520)}
			})
			s.expectNever(GoroutineLeak)
		})
	}
}
