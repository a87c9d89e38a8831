package sidecar

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gopherscope/gopherscope/sidecar/findings"
	"github.com/gopherscope/gopherscope/sidecar/source"
)

// nameLeakStacks reads the app's goroutine profile when a suspected leak
// needs its stacks named (findings.Set.StackReadDue: at most once per ten
// minutes), and its goroutine leak profile where the app's Go serves one,
// and returns the active findings after naming them. Without the pprof
// handlers, or when the read fails, the findings stay as they are.
func (s *Sampler) nameLeakStacks(ctx context.Context, t time.Time, active []findings.Finding) []findings.Finding {
	if s.pprof == nil || !s.detectors.StackReadDue(t) {
		return active
	}
	all, err := s.pprof.GoroutineProfile(ctx, source.ProfileGoroutine)
	if err != nil {
		s.log.Info("goroutine profile not read; the leak finding names no stacks", "error", err.Error())
		return active
	}
	var leaked source.GoroutineProfile
	if s.readsLeakProfile {
		var err error
		leaked, err = s.pprof.GoroutineProfile(ctx, source.ProfileGoroutineLeak)
		var status *source.StatusError
		switch {
		case errors.As(err, &status) && status.Code == http.StatusNotFound:
			s.readsLeakProfile = false // the app's Go does not serve it; never ask again
		case err != nil:
			s.log.Info("goroutine leak profile not read", "error", err.Error())
		}
	}
	s.log.Info("read the goroutine profile to name the stacks of a suspected leak", "goroutines", all.Total, "stacks", len(all.Groups))
	return s.detectors.NameStacks(t, profileGroups(all), profileGroups(leaked))
}

// profileGroups are a goroutine profile's groups as the detectors take them.
func profileGroups(p source.GoroutineProfile) []findings.ProfileGroup {
	groups := make([]findings.ProfileGroup, len(p.Groups))
	for i, g := range p.Groups {
		groups[i] = findings.ProfileGroup{Count: g.Count, Frames: g.Frames}
	}
	return groups
}
