package source

import (
	"context"
	"errors"
	"time"
)

// ErrBackingOff is returned instead of making a request while a source waits
// after failures.
var ErrBackingOff = errors.New("backing off after failures")

// Config says where the app's debug server is and how its sources behave.
type Config struct {
	// Host is the app's host, usually 127.0.0.1.
	Host string
	// Ports are the app's candidate debug ports, probed in order.
	Ports []int
	// Client makes the requests.
	Client *Client
	// BackoffBase is the wait after a first failure (usually the interval);
	// it doubles with each further failure up to BackoffMax.
	BackoffBase time.Duration
	// BackoffMax bounds the wait between attempts.
	BackoffMax time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// poller runs one source's attempts with its client: backoff, then the
// endpoint's port selection. Its methods are not safe for concurrent use; each source has
// its own poller and is polled by one goroutine, so one request at most is
// in flight per source.
type poller struct {
	client *Client
	ep     *endpoint
	bo     backoff
	now    func() time.Time
}

func newPoller(cfg Config, path string) poller {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	base, maxWait := cfg.BackoffBase, cfg.BackoffMax
	if base <= 0 {
		base = time.Second
	}
	if maxWait < base {
		maxWait = base
	}
	return poller{client: cfg.Client, ep: newEndpoint(cfg.Host, cfg.Ports, path), bo: backoff{base: base, max: maxWait}, now: now}
}

// poll makes one attempt unless the source is backing off.
func (p *poller) poll(ctx context.Context, try func(ctx context.Context, url string) error) error {
	if !p.bo.ready(p.now()) {
		return ErrBackingOff
	}
	if err := p.ep.do(ctx, try); err != nil {
		p.bo.failure(p.now())
		return err
	}
	p.bo.success()
	return nil
}

// Port returns the port the source last succeeded on, or 0.
func (p *poller) Port() int { return p.ep.Port() }
