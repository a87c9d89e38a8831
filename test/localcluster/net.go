package localcluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = ln.Close() }() // only the port number was wanted
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// FreePorts returns n distinct free ports.
func FreePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// getOK fetches url and reports anything but a 200.
func getOK(ctx context.Context, url string) error {
	_, err := Get(ctx, url)
	return err
}

// Get fetches url from a local process and returns the body of a 200
// answer; any other status is an error quoting the start of the body.
func Get(ctx context.Context, url string) ([]byte, error) {
	return Do(ctx, http.MethodGet, url)
}

// Do sends a body-less request to a local process (for example a demo app
// knob) and returns the body of a 200 answer; any other status is an error
// quoting the start of the body.
func Do(ctx context.Context, method, url string) ([]byte, error) {
	return DoWith(ctx, &http.Client{Timeout: 5 * time.Second}, method, url)
}

// DoWith is Do with the given client (a longer timeout, for a profile).
func DoWith(ctx context.Context, client *http.Client, method, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }() // fully read below
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", method, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %.200s", method, url, resp.Status, body)
	}
	return body, nil
}
