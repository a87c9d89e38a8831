package findings

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Naming the stacks of a suspected leak.
const (
	// StackReadInterval is the least time between two reads of the app's
	// goroutine profile for a leak, so the app pays for one read per ten
	// minutes at most, however long the leak lasts.
	StackReadInterval = 10 * time.Minute
	// maxNamedStacks is how many stacks a leak finding names.
	maxNamedStacks = 5
	// minGrowthShare is the least share of the growth a stack must hold to
	// be named when the stacks are ranked by growth.
	minGrowthShare = 0.1
)

// ProfileGroup is one group of goroutines with the same stack in the app's
// goroutine profile.
type ProfileGroup struct {
	// Count is how many goroutines have the stack.
	Count int
	// Frames are "function file:line", innermost first.
	Frames []string
	// leaked says the runtime's goroutine leak profile lists the stack
	// (set by NameStacks).
	leaked bool
}

// stackNamer keeps the last goroutine profile read for a leak and the
// stacks named from it.
type stackNamer struct {
	lastTry  time.Time
	read     time.Time
	previous map[string]int // each stack's count at the last read
	named    []Stack
}

// forget drops what was read of a process that is gone; the time of the
// last try stays, so a restarting app is not read more often.
func (n *stackNamer) forget() {
	n.read, n.previous, n.named = time.Time{}, nil, nil
}

// StackReadDue reports whether the app's goroutine profile should be read
// now: a leak is suspected and no read was tried in the last
// StackReadInterval. When it returns true it counts now as a try, so a read
// that fails is not retried before the interval either.
func (s *Set) StackReadDue(now time.Time) bool {
	if _, leaking := s.active[GoroutineLeak]; !leaking {
		return false
	}
	if !s.stacks.lastTry.IsZero() && now.Sub(s.stacks.lastTry) < StackReadInterval {
		return false
	}
	s.stacks.lastTry = now
	return true
}

// NameStacks takes the app's goroutine profile read at t (groups) and the
// runtime's goroutine leak profile (leaked; nil where the app's Go does not
// serve it) and names on the leak finding the stacks that hold its growth:
// those the leak profile lists first, then, on the first read, the stacks larger than the
// whole goroutine count before the trend (they must have grown), or else
// the largest; on later reads, the stacks that grew most since the one
// before. It returns the active findings.
func (s *Set) NameStacks(t time.Time, groups, leaked []ProfileGroup) []Finding {
	n := &s.stacks
	isLeaked := make(map[string]bool, len(leaked))
	for _, g := range leaked {
		isLeaked[stackKey(g.Frames)] = true
	}
	groups = slices.Clone(groups)
	counts := make(map[string]int, len(groups))
	for i, g := range groups {
		key := stackKey(g.Frames)
		counts[key] += g.Count
		groups[i].leaked = isLeaked[key]
	}
	var named []Stack
	for _, g := range groups {
		if g.leaked && len(named) < maxNamedStacks {
			named = append(named, newStack(g, nil))
		}
	}
	if n.previous == nil {
		named = appendLargest(named, groups, s.leak.baseline())
	} else {
		named = appendGrowing(named, groups, n.previous)
	}
	n.read, n.previous, n.named = t, counts, named
	s.attachStacks()
	return s.Active()
}

// attachStacks puts the named stacks on the active leak finding.
func (s *Set) attachStacks() {
	f, ok := s.active[GoroutineLeak]
	if !ok || s.stacks.read.IsZero() {
		return
	}
	f.Stacks, f.StacksRead = s.stacks.named, s.stacks.read
	s.active[GoroutineLeak] = f
}

// appendLargest names the stacks larger than baseline, the goroutine count
// before the trend, or, when none is, the largest stacks.
func appendLargest(named []Stack, groups []ProfileGroup, baseline float64) []Stack {
	ranked := slices.Clone(groups)
	slices.SortStableFunc(ranked, func(a, b ProfileGroup) int { return cmp.Compare(b.Count, a.Count) })
	grown := slices.IndexFunc(ranked, func(g ProfileGroup) bool { return float64(g.Count) <= baseline })
	if grown <= 0 {
		// Every group is larger than the baseline (-1), or none is (0):
		// the largest, then.
		grown = len(ranked)
	}
	for _, g := range ranked[:grown] {
		if len(named) == maxNamedStacks {
			break
		}
		if !g.leaked {
			named = append(named, newStack(g, nil))
		}
	}
	return named
}

// appendGrowing names the stacks that grew by at least minGrowthShare of
// the whole growth since the previous read, most first.
func appendGrowing(named []Stack, groups []ProfileGroup, previous map[string]int) []Stack {
	type growing struct {
		g      ProfileGroup
		growth int
	}
	var all []growing
	total := 0
	for _, g := range groups {
		if d := g.Count - previous[stackKey(g.Frames)]; d > 0 {
			all = append(all, growing{g, d})
			total += d
		}
	}
	slices.SortStableFunc(all, func(a, b growing) int { return cmp.Compare(b.growth, a.growth) })
	for _, gr := range all {
		if len(named) == maxNamedStacks || float64(gr.growth) < minGrowthShare*float64(total) {
			break
		}
		if !gr.g.leaked {
			named = append(named, newStack(gr.g, &gr.growth))
		}
	}
	return named
}

func newStack(g ProfileGroup, growth *int) Stack {
	return Stack{Function: appFunction(g.Frames), Count: g.Count, Growth: growth, Frames: slices.Clone(g.Frames), Leaked: g.leaked}
}

func stackKey(frames []string) string { return strings.Join(frames, "\n") }

// appFunction returns the innermost function of frames outside the Go
// runtime and the packages it waits in (sync), or the innermost one.
func appFunction(frames []string) string {
	fn := func(frame string) string { name, _, _ := strings.Cut(frame, " "); return name }
	for _, f := range frames {
		if !isRuntimePackage(packageOf(fn(f))) {
			return fn(f)
		}
	}
	if len(frames) > 0 {
		return fn(frames[0])
	}
	return ""
}

// packageOf returns the import path of a function's package:
// "net/http.(*conn).serve" is in "net/http".
func packageOf(function string) string {
	slash := strings.LastIndex(function, "/")
	dot := strings.Index(function[slash+1:], ".")
	if dot < 0 {
		return function
	}
	return function[:slash+1+dot]
}

func isRuntimePackage(pkg string) bool {
	return pkg == "runtime" || pkg == "sync" || pkg == "sync/atomic" ||
		strings.HasPrefix(pkg, "runtime/") || strings.HasPrefix(pkg, "internal/")
}
