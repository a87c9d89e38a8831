// Package httpaudit records what a handler answered, for the one audit
// line per request that the sidecar's diagnostics port and the diagnostics
// API server write.
package httpaudit

import "net/http"

// Response wraps a ResponseWriter and records the status, the bytes of
// the body written and, where the handler sets it, the reason of a refusal
// or an abort.
type Response struct {
	http.ResponseWriter
	Status int
	Bytes  int64
	Reason string
}

// WriteHeader records the first status.
func (r *Response) WriteHeader(status int) {
	if r.Status == 0 {
		r.Status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

// Write counts the bytes written; a body without a status is a 200.
func (r *Response) Write(p []byte) (int, error) {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.Bytes += int64(n)
	return n, err
}
