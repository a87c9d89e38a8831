package diagnostics

import (
	stdlog "log"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// NewServer returns the diagnostics port's server for opts: the handler
// (local's resources and the app's pprof at target) under PathPrefix, and
// nothing else, over TLS with a required client certificate. Its write
// timeout leaves room for the longest profile.
func NewServer(opts Options, target Target, local Local, log logr.Logger) (*http.Server, error) {
	cfg, err := TLSConfig(opts)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(PathPrefix, NewHandler(opts, target, local, log))
	opts = opts.WithDefaults()
	return &http.Server{
		Handler:           mux,
		TLSConfig:         cfg,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      MaxSeconds*time.Second + opts.Timeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          stdlog.New(connectionLog{log}, "", 0),
	}, nil
}

// connectionLog takes net/http's own messages (a refused handshake, a
// client without a certificate) into the structured log, at debug level:
// anyone on the pod network can knock.
type connectionLog struct{ log logr.Logger }

func (c connectionLog) Write(p []byte) (int, error) {
	c.log.V(1).Info("diagnostics connection", "error", bounded(strings.TrimSpace(string(p))))
	return len(p), nil
}
