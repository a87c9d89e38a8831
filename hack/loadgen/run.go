package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// drainGrace is how long an open-loop run keeps sending requests that were
// scheduled before its end but are still queued; what is left then counts
// as ErrBacklog.
const drainGrace = 10 * time.Second

// ErrBacklog counts open-loop requests that were scheduled but never sent:
// the server fell so far behind that the run gave up on them.
const ErrBacklog = "backlog"

// Options describe one run.
type Options struct {
	// Target is the webhook.
	Target Target
	// Requests are sent in turn (each connection starts at a different one).
	Requests []Request
	// Connections is the number of concurrent connections.
	Connections int
	// Rate is the open-loop rate in requests per second over all
	// connections; 0 runs closed-loop, each connection sending its next
	// request as soon as the previous one is answered.
	Rate float64
	// Duration is how long requests are started for.
	Duration time.Duration
	// Reconnect closes each connection after this long and dials a new one
	// (so certificate rotation is seen); 0 keeps connections open.
	Reconnect time.Duration
	// Certificates records the serving certificates; nil makes a new log.
	Certificates *CertificateLog
}

// Validate reports every problem with o.
func (o *Options) Validate() error {
	var errs []error
	if o.Target.URL == "" {
		errs = append(errs, errors.New("no target URL"))
	}
	if len(o.Requests) == 0 {
		errs = append(errs, errors.New("no requests to send"))
	}
	if o.Connections < 1 {
		errs = append(errs, fmt.Errorf("connections: %d, want at least 1", o.Connections))
	}
	if o.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate: %g, want 0 (closed loop) or more", o.Rate))
	}
	if o.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration: %s, want more than 0", o.Duration))
	}
	return errors.Join(errs...)
}

// Run sends requests until opts.Duration has passed (or ctx ends) and
// returns what it measured. Only invalid options are an error; wrong
// answers are counted in the result.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("load options: %w", err)
	}
	certs := opts.Certificates
	if certs == nil {
		certs = NewCertificateLog()
	}
	start := time.Now()
	end := start.Add(opts.Duration)
	var schedule chan time.Time
	if opts.Rate > 0 {
		schedule = make(chan time.Time, min(int(opts.Rate*opts.Duration.Seconds())+1, 1<<20))
		go dispatch(ctx, schedule, start, end, opts.Rate)
	}
	recorders := make([]*recorder, opts.Connections)
	var wg sync.WaitGroup
	for i := range opts.Connections {
		rec := newRecorder(start)
		recorders[i] = rec
		w := &worker{opts: &opts, client: NewClient(opts.Target, certs), rec: rec, next: i, lastDial: start}
		wg.Go(func() {
			defer w.client.Close()
			if schedule != nil {
				w.openLoop(ctx, schedule, end.Add(drainGrace))
			} else {
				w.closedLoop(ctx, end)
			}
		})
	}
	wg.Wait()
	res := merge(recorders, time.Since(start))
	res.Rate, res.Connections, res.Duration = opts.Rate, opts.Connections, opts.Duration
	res.Certificates, res.Handshakes = certs.Seen(), certs.Handshakes()
	return res, nil
}

// dispatch puts the scheduled send time of each request on schedule, at
// rate per second from start until end, then closes it.
func dispatch(ctx context.Context, schedule chan<- time.Time, start, end time.Time, rate float64) {
	defer close(schedule)
	interval := time.Duration(float64(time.Second) / rate)
	for due := start; due.Before(end); due = due.Add(interval) {
		if wait := time.Until(due); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		select {
		case schedule <- due:
		case <-ctx.Done():
			return
		}
	}
}

// worker is one connection's loop.
type worker struct {
	opts     *Options
	client   *Client
	rec      *recorder
	next     int
	lastDial time.Time
}

// closedLoop sends back to back until end.
func (w *worker) closedLoop(ctx context.Context, end time.Time) {
	for ctx.Err() == nil {
		began := time.Now()
		if !began.Before(end) {
			return
		}
		w.send(ctx, began)
	}
}

// openLoop sends at the scheduled times; requests still queued after
// giveUp are counted as backlog.
func (w *worker) openLoop(ctx context.Context, schedule <-chan time.Time, giveUp time.Time) {
	for due := range schedule {
		if ctx.Err() != nil || time.Now().After(giveUp) {
			w.rec.fail(ErrBacklog, "scheduled but not sent before the run gave up")
			continue
		}
		w.send(ctx, due)
	}
}

// send sends the next request; its latency counts from since.
func (w *worker) send(ctx context.Context, since time.Time) {
	r := w.opts.Requests[w.next%len(w.opts.Requests)]
	w.next++
	closeAfter := false
	if w.opts.Reconnect > 0 && time.Since(w.lastDial) >= w.opts.Reconnect {
		closeAfter, w.lastDial = true, time.Now()
	}
	_, err := w.client.Send(ctx, r, closeAfter)
	w.rec.done(since, time.Now(), err)
}
