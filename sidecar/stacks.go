package sidecar

import (
	"context"
	"errors"
	"net/http"
	"strings"
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
	leaked := map[string]bool{}
	if s.readsLeakProfile {
		lp, err := s.pprof.GoroutineProfile(ctx, source.ProfileGoroutineLeak)
		var status *source.StatusError
		switch {
		case errors.As(err, &status) && status.Code == http.StatusNotFound:
			s.readsLeakProfile = false // the app's Go does not serve it; never ask again
		case err != nil:
			s.log.Info("goroutine leak profile not read", "error", err.Error())
		}
		for _, g := range lp.Groups {
			leaked[stackKey(g.Frames)] = true
		}
	}
	groups := make([]findings.ProfileGroup, len(all.Groups))
	for i, g := range all.Groups {
		groups[i] = findings.ProfileGroup{Count: g.Count, Frames: g.Frames, Leaked: leaked[stackKey(g.Frames)]}
	}
	s.log.Info("read the goroutine profile to name the stacks of a suspected leak", "goroutines", all.Total, "stacks", len(all.Groups))
	return s.detectors.NameStacks(t, groups)
}

func stackKey(frames []string) string { return strings.Join(frames, "\n") }
