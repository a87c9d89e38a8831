package findings

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Stacks of a typical app's goroutine profile, innermost frame first.
var (
	leakFrames  = []string{"main.leakedRequest /src/app/leak.go:17", "main.handle.gowrap1 /src/app/leak.go:9"}
	serveFrames = []string{"internal/poll.runtime_pollWait /go/src/runtime/netpoll.go:351", "net/http.(*conn).serve /go/src/net/http/server.go:2102"}
	poolFrames  = []string{"sync.runtime_SemacquireWaitGroup /go/src/runtime/sema.go:114", "sync.(*WaitGroup).Wait /go/src/sync/waitgroup.go:118", "main.worker /src/app/pool.go:30"}
)

// leakingSet returns a Set whose leak finding is active: the goroutine count
// grew from 10 by 5 per second for 3 minutes.
func leakingSet(t *testing.T) (*sim, time.Time) {
	t.Helper()
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(3*time.Minute, func(at time.Duration) Observation { return Observation{Goroutines: f(10 + 5*at.Seconds())} })
	if _, ok := s.active(GoroutineLeak); !ok {
		t.Fatal("no leak after 3 minutes of growth")
	}
	return s, t0.Add(s.at)
}

func TestTheFirstReadNamesTheStacksLargerThanTheCountBeforeTheTrend(t *testing.T) {
	s, now := leakingSet(t)
	if !s.set.StackReadDue(now) {
		t.Fatal("no read due while a leak is suspected")
	}
	active := s.set.NameStacks(now, []ProfileGroup{
		{Count: 900, Frames: leakFrames},
		{Count: 40, Frames: serveFrames}, // fewer than the goroutines before the trend: not named
		{Count: 8, Frames: poolFrames},
	}, nil)
	leak := findingOf(t, active, GoroutineLeak)
	want := []Stack{{Function: "main.leakedRequest", Count: 900, Frames: leakFrames}}
	if diff := cmp.Diff(want, leak.Stacks); diff != "" {
		t.Errorf("stacks (-want +got):\n%s", diff)
	}
	if !leak.StacksRead.Equal(now) {
		t.Errorf("stacks read at %s, want %s", leak.StacksRead, now)
	}
	// The names stay on the finding as it is observed again.
	s.run(time.Second, func(at time.Duration) Observation { return Observation{Goroutines: f(10 + 5*at.Seconds())} })
	if fd, _ := s.active(GoroutineLeak); len(fd.Stacks) != 1 {
		t.Errorf("stacks after the next observation: %+v", fd.Stacks)
	}
}

func TestLaterReadsNameTheStacksThatGrewAndComeAtMostEvery10Minutes(t *testing.T) {
	s, now := leakingSet(t)
	s.set.StackReadDue(now)
	s.set.NameStacks(now, []ProfileGroup{{Count: 900, Frames: leakFrames}, {Count: 40, Frames: serveFrames}, {Count: 8, Frames: poolFrames}}, nil)
	if s.set.StackReadDue(now.Add(9 * time.Minute)) {
		t.Error("a second read due 9 minutes after the first")
	}
	later := now.Add(10 * time.Minute)
	if !s.set.StackReadDue(later) {
		t.Fatal("no read due 10 minutes after the first")
	}
	active := s.set.NameStacks(later, []ProfileGroup{
		{Count: 3900, Frames: leakFrames},
		{Count: 45, Frames: serveFrames}, // grew by 5: under a tenth of the growth
		{Count: 808, Frames: poolFrames},
	}, nil)
	three, eight := 3000, 800
	want := []Stack{
		{Function: "main.leakedRequest", Count: 3900, Growth: &three, Frames: leakFrames},
		{Function: "main.worker", Count: 808, Growth: &eight, Frames: poolFrames},
	}
	if diff := cmp.Diff(want, findingOf(t, active, GoroutineLeak).Stacks); diff != "" {
		t.Errorf("stacks (-want +got):\n%s", diff)
	}
}

func TestTheRuntimesLeakProfileComesFirst(t *testing.T) {
	s, now := leakingSet(t)
	s.set.StackReadDue(now)
	active := s.set.NameStacks(now, []ProfileGroup{
		{Count: 900, Frames: poolFrames},
		{Count: 12, Frames: leakFrames},
	}, []ProfileGroup{{Count: 12, Frames: leakFrames}})
	got := findingOf(t, active, GoroutineLeak).Stacks
	if len(got) != 2 || got[0].Function != "main.leakedRequest" || !got[0].Leaked || got[1].Function != "main.worker" || got[1].Leaked {
		t.Errorf("stacks %+v, want the leaked one first, then the large one", got)
	}
}

func TestNoReadIsDueWithoutALeakAndARestartForgetsTheStacks(t *testing.T) {
	s := newSim(t, DefaultOptions(), Limits{})
	s.run(5*time.Minute, func(time.Duration) Observation { return Observation{Goroutines: f(40)} })
	if s.set.StackReadDue(t0.Add(s.at)) {
		t.Error("a read due with no leak suspected")
	}

	s, now := leakingSet(t)
	s.set.StackReadDue(now)
	s.set.NameStacks(now, []ProfileGroup{{Count: 900, Frames: leakFrames}}, nil)
	s.set.Observe(Observation{Time: now.Add(time.Second), Restarted: true, Goroutines: f(10)})
	// The new process leaks again: its finding has no stacks until a read.
	s.run(3*time.Minute, func(at time.Duration) Observation { return Observation{Goroutines: f(10 + 5*at.Seconds())} })
	if fd, ok := s.active(GoroutineLeak); !ok || len(fd.Stacks) != 0 {
		t.Errorf("after a restart: leak %v with stacks %+v, want a leak without stacks", ok, fd.Stacks)
	}
	if s.set.StackReadDue(t0.Add(s.at)) {
		t.Error("a read due within 10 minutes of the last, across a restart")
	}
}

func TestAppFunctionSkipsTheRuntime(t *testing.T) {
	tests := []struct {
		frames []string
		want   string
	}{
		{leakFrames, "main.leakedRequest"},
		{serveFrames, "net/http.(*conn).serve"},
		{poolFrames, "main.worker"},
		{[]string{"github.com/acme/shop/cart.(*Cart).wait /src/cart.go:3"}, "github.com/acme/shop/cart.(*Cart).wait"},
		{[]string{"runtime.gopark /go/src/runtime/proc.go:1"}, "runtime.gopark"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := appFunction(tt.frames); got != tt.want {
			t.Errorf("appFunction(%q) = %q, want %q", tt.frames, got, tt.want)
		}
	}
}

func findingOf(t *testing.T, active []Finding, k Kind) Finding {
	t.Helper()
	for _, fd := range active {
		if fd.Kind == k {
			return fd
		}
	}
	t.Fatalf("no %s finding in %+v", k, active)
	return Finding{}
}
