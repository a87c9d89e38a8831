package findings

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Options are the detectors' thresholds. DefaultOptions documents the
// defaults and what they guarantee at a 1 s sample interval.
type Options struct {
	// LeakWindow is the length of the windows the goroutine count's
	// minimum is taken over. A worker pool that breathes with a period up
	// to LeakWindow has the same minimum in every window.
	LeakWindow time.Duration
	// LeakWindows is how many consecutive windows must each have a higher
	// minimum than the one before for a leak to be suspected.
	LeakWindows int
	// LeakMinGrowth is the least growth, in goroutines, of the minimum
	// from the first of those windows to the last; each window must add at
	// least half its share of it (LeakMinGrowth / (2 × (LeakWindows-1))).
	LeakMinGrowth float64

	// MemoryShare is the share of the container's memory limit above which
	// the app's memory is near the limit; MemoryCriticalShare raises the
	// finding to critical.
	MemoryShare, MemoryCriticalShare float64
	// MemorySustain is how long the app's memory must stay above
	// MemoryShare before the finding is raised (a short peak is not).
	MemorySustain time.Duration
	// MemoryGrowthWindow is how far back the growth rate that gives the
	// time left is measured.
	MemoryGrowthWindow time.Duration

	// GCWindow is the window the GC's share of CPU is measured over.
	GCWindow time.Duration
	// GCShare is the GC's share of CPU over a window above which the GC is
	// under pressure.
	GCShare float64
}

// DefaultOptions returns the default thresholds. At a 1 s interval:
//   - a leak of 5 goroutines/s is suspected within 2.5 minutes (4 windows of
//     30 s, 600 goroutines of growth, against a minimum of 50), while a pool
//     that grows by 400 over 10 s and shrinks back over the next 10 s has
//     the same minimum in every 30 s window and is never suspected;
//   - memory above 85% of the limit for 15 s is near the limit (critical
//     above 95%), with the time left from the growth over the last 2
//     minutes; a heap whose peaks stay under 85% is never near the limit;
//   - the GC taking 25% or more of the app's CPU over a 60 s window is GC
//     pressure, raised within 2 minutes.
func DefaultOptions() Options {
	return Options{
		LeakWindow:          30 * time.Second,
		LeakWindows:         4,
		LeakMinGrowth:       50,
		MemoryShare:         0.85,
		MemoryCriticalShare: 0.95,
		MemorySustain:       15 * time.Second,
		MemoryGrowthWindow:  2 * time.Minute,
		GCWindow:            60 * time.Second,
		GCShare:             0.25,
	}
}

// Bounds on the thresholds, which may come from a pod's annotation: a
// window or a number of windows past them would make the sidecar keep
// samples beyond its memory limit for nothing a person would ask for.
const (
	maxWindow      = time.Hour
	maxLeakWindows = 100
)

// Validate reports every threshold that cannot work.
func (o Options) Validate() error {
	var errs []error
	positive := func(name string, d time.Duration) {
		if d <= 0 || d > maxWindow {
			errs = append(errs, fmt.Errorf("%s must be positive and at most %s, got %s", name, maxWindow, d))
		}
	}
	share := func(name string, v float64) {
		if !(v > 0 && v <= 1) {
			errs = append(errs, fmt.Errorf("%s must be in (0, 1], got %g", name, v))
		}
	}
	positive("leak window", o.LeakWindow)
	positive("memory sustain", o.MemorySustain)
	positive("memory growth window", o.MemoryGrowthWindow)
	positive("GC window", o.GCWindow)
	if o.LeakWindows < 2 || o.LeakWindows > maxLeakWindows {
		errs = append(errs, fmt.Errorf("leak windows must be from 2 to %d, got %d", maxLeakWindows, o.LeakWindows))
	}
	if !(o.LeakMinGrowth > 0) || math.IsInf(o.LeakMinGrowth, 1) {
		errs = append(errs, fmt.Errorf("leak minimum growth must be positive, got %g", o.LeakMinGrowth))
	}
	share("memory share", o.MemoryShare)
	share("memory critical share", o.MemoryCriticalShare)
	if o.MemoryCriticalShare < o.MemoryShare {
		errs = append(errs, fmt.Errorf("memory critical share %g is below memory share %g", o.MemoryCriticalShare, o.MemoryShare))
	}
	share("GC share", o.GCShare)
	return errors.Join(errs...)
}
