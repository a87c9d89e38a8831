package source

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Pprof is the source reading net/http/pprof's index page, with the first
// line of goroutine?debug=1 as a fallback for the goroutine count when the
// index has no counts or is not served.
type Pprof struct {
	client *Client
	poller
}

// NewPprof returns the source for the pprof handlers under prefix (for
// example "/debug/pprof").
func NewPprof(cfg Config, prefix string) *Pprof {
	return &Pprof{client: cfg.Client, poller: newPoller(cfg, strings.TrimRight(prefix, "/"))}
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
		counts, err := s.index(ctx, prefix+"/")
		var status *StatusError
		if fallback := errors.Is(err, errNoCounts) || errors.As(err, &status); !fallback {
			out = counts
			return err
		}
		n, ferr := s.goroutineHeader(ctx, prefix+"/goroutine?debug=1")
		if ferr != nil {
			return errors.Join(err, ferr)
		}
		counts.Goroutines, counts.HasGoroutines = n, true
		out = counts
		return nil
	})
	return out, err
}

func (s *Pprof) index(ctx context.Context, url string) (ProfileCounts, error) {
	var counts ProfileCounts
	err := s.client.Get(ctx, url, "text/html", func(body io.Reader, _ http.Header) error {
		var err error
		counts, err = ParsePprofIndex(body)
		return err
	})
	return counts, err
}

func (s *Pprof) goroutineHeader(ctx context.Context, url string) (int64, error) {
	var n int64
	err := s.client.Get(ctx, url, "text/plain", func(body io.Reader, _ http.Header) error {
		var err error
		n, err = ParseGoroutineHeader(body)
		return err
	})
	return n, err
}
