package findings

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 3, 4, 0, 0, 0, time.UTC)

const mib = 1 << 20

func f(v float64) *float64 { return &v }

// sim feeds a Set one observation per second on a fake clock and records
// when each kind of finding was first and last active.
type sim struct {
	t     *testing.T
	set   *Set
	at    time.Duration
	first map[Kind]time.Duration
	last  map[Kind]time.Duration
	now   []Finding
}

func newSim(t *testing.T, opts Options, limits Limits) *sim {
	t.Helper()
	set, err := New(opts, limits)
	if err != nil {
		t.Fatal(err)
	}
	return &sim{t: t, set: set, first: map[Kind]time.Duration{}, last: map[Kind]time.Duration{}}
}

// run feeds observations for d, one per second; obs gets the time since
// the start of the simulation and fills in the figures.
func (s *sim) run(d time.Duration, obs func(at time.Duration) Observation) {
	for end := s.at + d; s.at < end; s.at += time.Second {
		o := obs(s.at)
		o.Time = t0.Add(s.at)
		s.now = s.set.Observe(o)
		for _, fd := range s.now {
			if _, ok := s.first[fd.Kind]; !ok {
				s.first[fd.Kind] = s.at
			}
			s.last[fd.Kind] = s.at
		}
	}
}

// active returns the finding of kind k active after the last observation.
func (s *sim) active(k Kind) (Finding, bool) {
	for _, fd := range s.now {
		if fd.Kind == k {
			return fd, true
		}
	}
	return Finding{}, false
}

// firstRaised returns when k was first active, failing the test if never.
func (s *sim) firstRaised(k Kind) time.Duration {
	s.t.Helper()
	at, ok := s.first[k]
	if !ok {
		s.t.Fatalf("%s was never raised", k)
	}
	return at
}

// expectNever fails the test if any of kinds was ever active.
func (s *sim) expectNever(kinds ...Kind) {
	s.t.Helper()
	for _, k := range kinds {
		if at, ok := s.first[k]; ok {
			fd, _ := s.active(k)
			s.t.Errorf("%s raised at %s (evidence %+v)", k, at, fd.Evidence)
		}
	}
}

// figure returns the value of the named figure of fd's evidence.
func figure(t *testing.T, fd Finding, name string) float64 {
	t.Helper()
	for _, fig := range fd.Evidence.Figures {
		if fig.Name == name {
			return fig.Value
		}
	}
	t.Fatalf("%s has no figure %q: %+v", fd.Kind, name, fd.Evidence.Figures)
	return 0
}

// triangle is a wave between 0 and height that rises over half of period
// and falls over the other half.
func triangle(at, period time.Duration, height float64) float64 {
	phase := float64(at%period) / float64(period)
	if phase < 0.5 {
		return height * phase * 2
	}
	return height * (1 - phase) * 2
}
