package findings

import (
	"testing"
	"time"
)

func TestGOMAXPROCSAboveWhatGo125WouldChoose(t *testing.T) {
	tests := []struct {
		name       string
		gomaxprocs *float64
		limits     Limits
		want       bool
	}{
		{name: "all 8 CPUs under a 2 CPU limit (Go before 1.25)", gomaxprocs: f(8), limits: Limits{CPU: 2, NumCPU: 8}, want: true},
		{name: "2 under a 0.5 CPU limit is Go's own minimum", gomaxprocs: f(2), limits: Limits{CPU: 0.5, NumCPU: 8}},
		{name: "3 under a 2.5 CPU limit is the limit rounded up", gomaxprocs: f(3), limits: Limits{CPU: 2.5, NumCPU: 8}},
		{name: "4 under a 2.5 CPU limit is above it", gomaxprocs: f(4), limits: Limits{CPU: 2.5, NumCPU: 8}, want: true},
		{name: "4 under an 8 CPU limit on a 2 CPU node is above the CPUs", gomaxprocs: f(4), limits: Limits{CPU: 8, NumCPU: 2}, want: true},
		{name: "an unknown node size caps nothing", gomaxprocs: f(8), limits: Limits{CPU: 8}},
		{name: "no CPU limit", gomaxprocs: f(64), limits: Limits{NumCPU: 8}},
		{name: "GOMAXPROCS not reported", limits: Limits{CPU: 1, NumCPU: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, DefaultOptions(), tt.limits)
			s.run(time.Second, func(time.Duration) Observation { return Observation{GOMAXPROCS: tt.gomaxprocs} })
			fd, ok := s.active(GOMAXPROCSAboveCPULimit)
			if ok != tt.want {
				t.Fatalf("raised %v, want %v (evidence %+v)", ok, tt.want, fd.Evidence)
			}
			if ok && figure(t, fd, "GOMAXPROCS") != *tt.gomaxprocs {
				t.Errorf("evidence %+v lacks GOMAXPROCS %g", fd.Evidence, *tt.gomaxprocs)
			}
		})
	}
}

func TestGOMAXPROCSClearsWhenTheAppRestartsWithinTheLimit(t *testing.T) {
	s := newSim(t, DefaultOptions(), Limits{CPU: 1, NumCPU: 4})
	s.run(time.Second, func(time.Duration) Observation { return Observation{GOMAXPROCS: f(4)} })
	if _, ok := s.active(GOMAXPROCSAboveCPULimit); !ok {
		t.Fatal("4 under a 1 CPU limit not raised")
	}
	s.run(time.Second, func(time.Duration) Observation { return Observation{Restarted: true, GOMAXPROCS: f(2)} })
	if _, ok := s.active(GOMAXPROCSAboveCPULimit); ok {
		t.Error("still raised after the app restarted with GOMAXPROCS 2")
	}
}
