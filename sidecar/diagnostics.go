package sidecar

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	"github.com/go-logr/logr"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar/diagnostics"
	"github.com/gopherscope/gopherscope/sidecar/history"
)

// PprofBase is the diagnostics port's target: the app's pprof prefix on
// the port the sampler last read it on.
func (s *Sampler) PprofBase() (string, error) {
	if s.pprof == nil {
		return "", diagnostics.ErrPprofDisabled
	}
	port := s.pprofPort.Load()
	if port == 0 {
		return "", fmt.Errorf("the app's pprof has not answered at %s/ on %s (an app that serves none answers this way; one that serves it elsewhere needs the %s annotation)",
			s.pprofDir, s.targetHost, "gopherscope.io/"+sidecarconf.FlagPprofPath)
	}
	return "http://" + net.JoinHostPort(s.targetHost, strconv.FormatInt(port, 10)) + s.pprofDir, nil
}

// serveDiagnostics serves the diagnostics port until ctx ends: the stats
// and history of s and ring, and the app's pprof.
func serveDiagnostics(ctx context.Context, sidecarOpts Options, s *Sampler, ring *history.Ring, log logr.Logger) error {
	opts := sidecarOpts.Diagnostics
	if err := opts.Validate(); err != nil {
		return err
	}
	local := diagnostics.Local{Stats: statsHandler(s, ring, sidecarOpts), History: historyHandler(ring, sidecarOpts)}
	srv, err := diagnostics.NewServer(opts, s.PprofBase, local, log)
	if err != nil {
		return err
	}
	ln := opts.Listener
	if ln == nil {
		var lc net.ListenConfig
		if ln, err = lc.Listen(ctx, "tcp", opts.ListenAddress); err != nil {
			return fmt.Errorf("listen on %q for diagnostics: %w", opts.ListenAddress, err)
		}
	}
	log.Info("diagnostics serving", "address", ln.Addr().String(), "clientName", opts.WithDefaults().ClientName)
	return serve(ctx, srv, tls.NewListener(ln, srv.TLSConfig))
}
