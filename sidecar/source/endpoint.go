package source

import (
	"context"
	"errors"
	"net"
	"strconv"
)

// reprobeAfter is how many consecutive failures on the current port make an
// endpoint probe every port again (the app may have moved).
const reprobeAfter = 3

// endpoint is one path of the app's debug server, on the first of its
// candidate ports that answers.
type endpoint struct {
	host  string
	ports []int
	path  string // path and query, starting with "/"

	current  int // index into ports of the port in use; -1 until one answered
	failures int // consecutive failures on the current port
}

func newEndpoint(host string, ports []int, path string) *endpoint {
	return &endpoint{host: host, ports: ports, path: path, current: -1}
}

func (e *endpoint) url(port int) string {
	return "http://" + net.JoinHostPort(e.host, strconv.Itoa(port)) + e.path
}

// Port returns the port in use, or 0 while none has answered.
func (e *endpoint) Port() int {
	if e.current < 0 {
		return 0
	}
	return e.ports[e.current]
}

// do calls try with the URL on the current port; with no current port it
// probes the ports in order and keeps the first that succeeds.
func (e *endpoint) do(ctx context.Context, try func(ctx context.Context, url string) error) error {
	if e.current >= 0 {
		err := try(ctx, e.url(e.ports[e.current]))
		if err == nil {
			e.failures = 0
			return nil
		}
		e.failures++
		if e.failures >= reprobeAfter {
			e.current, e.failures = -1, 0
		}
		return err
	}
	var errs []error
	for i, port := range e.ports {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		err := try(ctx, e.url(port))
		if err == nil {
			e.current, e.failures = i, 0
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
