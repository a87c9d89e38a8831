package diagnostics

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Defaults of Options' zero values.
const (
	// DefaultClientName is the common name of the diagnostics server's
	// client certificate.
	DefaultClientName = "gopherscope-diagnostics"
	// DefaultMaxBytes caps one forwarded response.
	DefaultMaxBytes = 32 << 20
	// DefaultDumpsPerMinute and DefaultDumpBurst rate-limit dumps (heap,
	// allocs, goroutine, mutex, block) per pod.
	DefaultDumpsPerMinute = 12
	DefaultDumpBurst      = 5
	// DefaultTimeout is how long the app may take beyond a request's
	// seconds.
	DefaultTimeout = 10 * time.Second
)

// Options configure the diagnostics port.
type Options struct {
	// ListenAddress is where the diagnostics port listens; "" disables it.
	ListenAddress string
	// Listener, if set, is served instead of listening on ListenAddress.
	Listener net.Listener
	// ClientCAs is the PEM bundle of the diagnostics CA's roots, written
	// into the pod at injection.
	ClientCAs []byte
	// ClientName is the common name the client certificate must carry;
	// "" means DefaultClientName.
	ClientName string
	// MaxBytes caps each forwarded response; 0 means DefaultMaxBytes.
	MaxBytes int64
	// DumpsPerMinute and DumpBurst rate-limit dumps; 0 means the defaults.
	DumpsPerMinute, DumpBurst int
	// Timeout is how long the app may take beyond a request's seconds; 0
	// means DefaultTimeout.
	Timeout time.Duration
}

// Enabled says whether the diagnostics port is served.
func (o *Options) Enabled() bool { return o.ListenAddress != "" || o.Listener != nil }

// Validate reports every problem with o at once; a disabled port has none.
func (o *Options) Validate() error {
	if !o.Enabled() {
		return nil
	}
	var errs []error
	if _, err := parseRoots(o.ClientCAs); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(o.ClientName) != o.ClientName {
		errs = append(errs, fmt.Errorf("client name %q has surrounding white space", o.ClientName))
	}
	if o.MaxBytes < 0 || o.DumpsPerMinute < 0 || o.DumpBurst < 0 || o.Timeout < 0 {
		errs = append(errs, errors.New("the diagnostics limits must not be negative"))
	}
	return errors.Join(errs...)
}

// WithDefaults returns o with its zero values replaced by the defaults.
func (o Options) WithDefaults() Options {
	if o.ClientName == "" {
		o.ClientName = DefaultClientName
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.DumpsPerMinute == 0 {
		o.DumpsPerMinute = DefaultDumpsPerMinute
	}
	if o.DumpBurst == 0 {
		o.DumpBurst = DefaultDumpBurst
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}
