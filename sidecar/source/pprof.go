package source

import (
	"context"
	"errors"
	"strings"
)

// Pprof is the source reading net/http/pprof's index page, with the first
// line of goroutine?debug=1 as a fallback for the goroutine count when the
// index has no counts or is not served.
type Pprof struct{ poller }

// NewPprof returns the source for the pprof handlers under prefix (for
// example "/debug/pprof").
func NewPprof(cfg Config, prefix string) *Pprof {
	return &Pprof{newPoller(cfg, strings.TrimRight(prefix, "/"))}
}

// Name returns "pprof".
func (*Pprof) Name() string { return "pprof" }

// FetchInto reads the profile counts once into r.Profiles.
func (s *Pprof) FetchInto(ctx context.Context, r *Readings) error {
	c, err := s.Fetch(ctx)
	if err == nil {
		r.Profiles = &c
	}
	return err
}

// Fetch reads the profile counts once.
func (s *Pprof) Fetch(ctx context.Context) (ProfileCounts, error) {
	var out ProfileCounts
	err := s.poll(ctx, func(ctx context.Context, prefix string) error {
		counts, err := getParsed(ctx, s.client, prefix+"/", "text/html", ParsePprofIndex)
		var status *StatusError
		if fallback := errors.Is(err, errNoCounts) || errors.As(err, &status); !fallback {
			out = counts
			return err
		}
		n, ferr := getParsed(ctx, s.client, prefix+"/goroutine?debug=1", "text/plain", ParseGoroutineHeader)
		if ferr != nil {
			return errors.Join(err, ferr)
		}
		counts.Goroutines, counts.HasGoroutines = n, true
		out = counts
		return nil
	})
	return out, err
}
