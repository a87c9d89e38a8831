package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultMaxBodyBytes is the default cap on a response body.
const DefaultMaxBodyBytes = 8 << 20

// ErrBodyTooLarge is returned when a response body is larger than the cap.
var ErrBodyTooLarge = errors.New("response body exceeds the size cap")

// StatusError is returned for a response whose status is not 200.
type StatusError struct {
	// URL is the requested URL.
	URL string
	// Code is the HTTP status code received.
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: status %d", e.URL, e.Code)
}

// Client performs bounded GET requests against the target.
type Client struct {
	http      *http.Client
	maxBytes  int64
	timeout   time.Duration
	userAgent string
}

// NewClient returns a client whose requests each time out after timeout and
// whose response bodies are capped at maxBytes (DefaultMaxBodyBytes if not
// positive). It never uses a proxy: the target is the pod's own app.
func NewClient(timeout time.Duration, maxBytes int64, userAgent string) *Client {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:           4,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &Client{
		http: &http.Client{
			Transport: transport,
			// A debug endpoint that redirects elsewhere is not followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		maxBytes:  maxBytes,
		timeout:   timeout,
		userAgent: userAgent,
	}
}

// Close releases the client's idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Get requests url with the given Accept header and hands the capped body to
// read. The request, including read, ends after the client's timeout.
func (c *Client) Get(ctx context.Context, url, accept string, read func(body io.Reader, header http.Header) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("build request %q: %w", url, err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err // a *url.Error, which names the method and URL
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return &StatusError{URL: url, Code: resp.StatusCode}
	}
	if resp.ContentLength > c.maxBytes {
		return fmt.Errorf("GET %s: %d bytes: %w", url, resp.ContentLength, ErrBodyTooLarge)
	}
	if err := read(&cappedReader{r: resp.Body, remaining: c.maxBytes}, resp.Header); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// getParsed requests url like Get and returns what parse makes of the body.
func getParsed[T any](ctx context.Context, c *Client, url, accept string, parse func(io.Reader) (T, error)) (T, error) {
	var out T
	err := c.Get(ctx, url, accept, func(body io.Reader, _ http.Header) error {
		var err error
		out, err = parse(body)
		return err
	})
	return out, err
}

// initialBodyBuffer is the first buffer size when the length is unknown.
const initialBodyBuffer = 16 << 10

// maxKeptBuffer is the largest buffer GetBytes callers should keep for reuse.
const maxKeptBuffer = 1 << 20

// GetBytes requests url like Get and returns the whole capped body, read
// into buf (reused when large enough). The buffer grows by doubling and never
// past the cap, so a hostile body costs at most about twice the cap in
// allocations, however large it is.
func (c *Client) GetBytes(ctx context.Context, url, accept string, buf []byte) ([]byte, error) {
	err := c.Get(ctx, url, accept, func(body io.Reader, _ http.Header) error {
		var err error
		buf, err = c.readBody(body, buf)
		return err
	})
	return buf, err
}

func (c *Client) readBody(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	if cap(buf) == 0 {
		buf = make([]byte, 0, min(initialBodyBuffer, c.maxBytes))
	}
	for {
		if len(buf) == cap(buf) && int64(cap(buf)) < c.maxBytes {
			grown := make([]byte, len(buf), min(2*int64(cap(buf)), c.maxBytes))
			copy(grown, buf)
			buf = grown
		}
		// At the cap, the empty read lets cappedReader tell EOF from more.
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// cappedReader reads at most remaining bytes from r and fails with
// ErrBodyTooLarge, rather than ending quietly, when r holds more.
type cappedReader struct {
	r         io.Reader
	remaining int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.remaining <= 0 {
		var probe [1]byte
		n, err := c.r.Read(probe[:])
		if n > 0 {
			return 0, ErrBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.r.Read(p)
	c.remaining -= int64(n)
	return n, err
}
