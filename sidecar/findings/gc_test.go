package findings

import (
	"testing"
	"time"
)

// gcApp is an app with 2 CPUs available whose GC takes share(at) of them;
// its figures are cumulative from an hour before the simulation starts, as
// GCCPUFraction × uptime and uptime would be.
type gcApp struct {
	gc, avail float64
}

func (a *gcApp) step(share float64) Observation {
	a.avail += 2
	a.gc += 2 * share
	return Observation{GCCPU: f(a.gc), AvailableCPU: f(a.avail)}
}

func TestGCPressureIsRaisedFromTheRecentShareAndClears(t *testing.T) {
	app := &gcApp{gc: 0.02 * 7200, avail: 7200} // an hour at 2% before
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(10*time.Minute, func(time.Duration) Observation { return app.step(0.02) })
	s.expectNever(GCPressure)

	churn := s.at
	s.run(3*time.Minute, func(time.Duration) Observation { return app.step(0.4) })
	if at := s.firstRaised(GCPressure) - churn; at > 2*time.Minute {
		t.Errorf("raised %s after the churn began, want within 2m", at)
	}
	fd, ok := s.active(GCPressure)
	if !ok {
		t.Fatal("not active while the GC takes 40%")
	}
	if share := figure(t, fd, "GC share of CPU"); share < 0.39 || share > 0.41 {
		t.Errorf("share %g, want 0.4 (from the window's deltas, not the since-start average)", share)
	}

	calm := s.at
	s.run(3*time.Minute, func(time.Duration) Observation { return app.step(0.05) })
	if _, ok := s.active(GCPressure); ok {
		t.Fatal("still active 3 minutes after the GC share fell to 5%")
	}
	if cleared := s.last[GCPressure] - calm; cleared > 2*time.Minute {
		t.Errorf("cleared %s after the churn stopped, want within 2m", cleared)
	}
}

func TestAGCHeavyButStableAppIsNotUnderPressure(t *testing.T) {
	app := &gcApp{}
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(6*time.Hour, func(at time.Duration) Observation {
		// 10% to 22%, in bursts.
		return app.step(0.1 + triangle(at, 50*time.Second, 0.12))
	})
	s.expectNever(GCPressure)
}

func TestGCCountersThatGoBackStartAFreshWindow(t *testing.T) {
	app := &gcApp{}
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(90*time.Second, func(time.Duration) Observation { return app.step(0.01) })
	*app = gcApp{} // a restart the normalizer missed
	s.run(90*time.Second, func(time.Duration) Observation { return app.step(0.01) })
	s.expectNever(GCPressure)
}

// TestGCPressureClearsWhenTheGCStopsRunning: the figures move only at the
// end of a GC cycle, so an app that stops collecting freezes them; a window
// without a cycle spent nothing on the GC.
func TestGCPressureClearsWhenTheGCStopsRunning(t *testing.T) {
	app := &gcApp{}
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(3*time.Minute, func(time.Duration) Observation { return app.step(0.4) })
	if _, ok := s.active(GCPressure); !ok {
		t.Fatal("not active while the GC takes 40%")
	}
	frozen := *app
	idle := s.at
	s.run(3*time.Minute, func(time.Duration) Observation {
		return Observation{GCCPU: f(frozen.gc), AvailableCPU: f(frozen.avail)}
	})
	if _, ok := s.active(GCPressure); ok {
		t.Fatal("still active 3 minutes after the GC stopped running")
	}
	if cleared := s.last[GCPressure] - idle; cleared > 2*time.Minute {
		t.Errorf("cleared %s after the GC stopped, want within 2m", cleared)
	}
}
