package loadgen

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// maxErrorSamples is how many error messages a result keeps, per run.
const maxErrorSamples = 5

// Result is what a run measured.
type Result struct {
	// Rate, Connections and Duration are the run's options.
	Rate        float64
	Connections int
	Duration    time.Duration
	// Requests is the number of correct answers.
	Requests int
	// Errors counts the requests without a correct answer, by kind (the
	// Err* constants and ErrBacklog).
	Errors map[string]int
	// ErrorSamples are the first few error messages.
	ErrorSamples []string
	// Latencies of the correct answers, sorted.
	Latencies []time.Duration
	// PerSecond counts correct answers by the second of the run they
	// arrived in.
	PerSecond []int
	// Elapsed is the run's wall time, to the last answer.
	Elapsed time.Duration
	// Handshakes is the number of TLS handshakes.
	Handshakes int
	// Certificates are the serving certificates seen, by first appearance.
	Certificates []CertificateSeen
}

// ErrorCount is the number of requests without a correct answer.
func (r *Result) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// Throughput is correct answers per second of the run.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Quantile returns the latency at quantile q (0..1) with the nearest-rank
// method: the smallest latency that at least q of the answers did not
// exceed. It is 0 without answers.
func (r *Result) Quantile(q float64) time.Duration {
	return NearestRank(r.Latencies, q)
}

// NearestRank returns the value at quantile q (0..1) of sorted (ascending)
// with the nearest-rank method: the smallest value that at least q of them
// do not exceed. It is 0 for none.
func NearestRank(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}

// ErrorSummary lists the error counts, "none" without errors.
func (r *Result) ErrorSummary() string {
	if len(r.Errors) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, r.Errors[k]))
	}
	return strings.Join(parts, " ")
}

// String is a one-line summary.
func (r *Result) String() string {
	mode := "closed loop"
	if r.Rate > 0 {
		mode = fmt.Sprintf("open loop at %g/s", r.Rate)
	}
	return fmt.Sprintf("%s, %d connections, %s: %d answers (%.0f/s), p50 %s p99 %s p99.9 %s max %s, errors: %s, %d handshakes, %d certificates",
		mode, r.Connections, r.Duration, r.Requests, r.Throughput(),
		FormatDuration(r.Quantile(0.5)), FormatDuration(r.Quantile(0.99)), FormatDuration(r.Quantile(0.999)), FormatDuration(r.Quantile(1)),
		r.ErrorSummary(), r.Handshakes, len(r.Certificates))
}

// FormatDuration prints d with three significant digits in µs or ms.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

// recorder collects one connection's outcomes, without locks.
type recorder struct {
	start     time.Time
	latencies []time.Duration
	perSecond []int
	errors    map[string]int
	samples   []string
}

func newRecorder(start time.Time) *recorder {
	return &recorder{start: start, latencies: make([]time.Duration, 0, 4096), errors: map[string]int{}}
}

// done records one request that started at since and ended at now.
func (r *recorder) done(since, now time.Time, err error) {
	if err != nil {
		kind := ErrTransport
		var se *SendError
		if errors.As(err, &se) {
			kind = se.Kind
		}
		r.fail(kind, err.Error())
		return
	}
	r.latencies = append(r.latencies, now.Sub(since))
	sec := int(now.Sub(r.start) / time.Second)
	for len(r.perSecond) <= sec {
		r.perSecond = append(r.perSecond, 0)
	}
	r.perSecond[sec]++
}

// fail records a request without a correct answer.
func (r *recorder) fail(kind, message string) {
	r.errors[kind]++
	if len(r.samples) < maxErrorSamples {
		r.samples = append(r.samples, message)
	}
}

// merge adds up the recorders.
func merge(recs []*recorder, elapsed time.Duration) *Result {
	res := &Result{Errors: map[string]int{}, Elapsed: elapsed}
	for _, r := range recs {
		res.Latencies = append(res.Latencies, r.latencies...)
		for i, n := range r.perSecond {
			for len(res.PerSecond) <= i {
				res.PerSecond = append(res.PerSecond, 0)
			}
			res.PerSecond[i] += n
		}
		for k, n := range r.errors {
			res.Errors[k] += n
		}
		for _, s := range r.samples {
			if len(res.ErrorSamples) < maxErrorSamples {
				res.ErrorSamples = append(res.ErrorSamples, s)
			}
		}
	}
	res.Requests = len(res.Latencies)
	slices.Sort(res.Latencies)
	if len(res.Errors) == 0 {
		res.Errors = nil
	}
	return res
}

// Combine adds up runs of the same kind (rounds of one measurement taken
// between rounds of another, so both see the same drift of a shared
// machine) into one result.
func Combine(runs ...*Result) *Result {
	out := &Result{Errors: map[string]int{}}
	seen := map[string]int{}
	for i, r := range runs {
		if i == 0 {
			out.Rate, out.Connections = r.Rate, r.Connections
		}
		out.Duration += r.Duration
		out.Elapsed += r.Elapsed
		out.Requests += r.Requests
		out.Handshakes += r.Handshakes
		out.Latencies = append(out.Latencies, r.Latencies...)
		out.PerSecond = append(out.PerSecond, r.PerSecond...)
		for k, n := range r.Errors {
			out.Errors[k] += n
		}
		for _, s := range r.ErrorSamples {
			if len(out.ErrorSamples) < maxErrorSamples {
				out.ErrorSamples = append(out.ErrorSamples, s)
			}
		}
		for _, c := range r.Certificates {
			if j, ok := seen[c.Serial]; ok {
				out.Certificates[j].Handshakes += c.Handshakes
				continue
			}
			seen[c.Serial] = len(out.Certificates)
			out.Certificates = append(out.Certificates, c)
		}
	}
	slices.Sort(out.Latencies)
	if len(out.Errors) == 0 {
		out.Errors = nil
	}
	return out
}
