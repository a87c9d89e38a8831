package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// ListenOnHost listens on addr (a loopback address) in the network namespace
// this program was started from, the machine's own, when it runs inside the
// node's (RunInNodeNetwork): a person's browser on the machine can then reach
// a pod through Forward. Elsewhere it is net.Listen.
func ListenOnHost(addr string) (net.Listener, error) {
	if !InNodeNetwork() {
		return net.Listen("tcp", addr)
	}
	type result struct {
		ln  net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		// The socket is made in the namespace of the thread that makes it.
		// This thread enters the parent's namespace and is never unlocked, so
		// it ends with this goroutine instead of serving others there.
		runtime.LockOSThread()
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", os.Getppid()))
		if err != nil {
			done <- result{err: fmt.Errorf("open the machine's network namespace: %w", err)}
			return
		}
		defer func() { _ = ns.Close() }()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("enter the machine's network namespace: %w", err)}
			return
		}
		ln, err := net.Listen("tcp", addr)
		done <- result{ln, err}
	}()
	r := <-done
	return r.ln, r.err
}

// Forward accepts connections on ln until ctx ends and joins each to a new
// connection to target (an address in this program's network namespace).
func Forward(ctx context.Context, ln net.Listener, target string) {
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		in, err := ln.Accept()
		if err != nil {
			return // closed when ctx ended
		}
		wg.Go(func() {
			defer func() { _ = in.Close() }()
			var d net.Dialer
			out, err := d.DialContext(ctx, "tcp", target)
			if err != nil {
				return
			}
			defer func() { _ = out.Close() }()
			go func() {
				<-ctx.Done()
				_ = in.Close()
				_ = out.Close()
			}()
			go func() { _, _ = io.Copy(out, in); _ = closeWrite(out) }()
			_, _ = io.Copy(in, out)
		})
	}
}

func closeWrite(c net.Conn) error {
	if tc, ok := c.(*net.TCPConn); ok {
		return tc.CloseWrite()
	}
	return errors.New("not a TCP connection")
}
