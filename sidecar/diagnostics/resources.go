package diagnostics

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gopherscope/gopherscope/diagnostics/api"
)

// MaxSeconds is the longest CPU profile, trace or delta profile served:
// kube-apiserver ends aggregated requests after 60s by default.
const MaxSeconds = 45

// maxQueryBytes caps a request's query string.
const maxQueryBytes = 256

// resource is one read-only diagnostics resource and the app's pprof path
// behind it.
type resource struct {
	// name is the resource's name in the API and the pprof profile's name.
	name string
	// params are the query parameters the resource accepts, each with the
	// values it allows.
	params map[string]param
	// exclusive resources (a CPU profile, a trace) run one at a time per
	// pod; the others are dumps, rate-limited.
	exclusive bool
	// defaultSeconds is the duration of an exclusive resource without
	// ?seconds=, as net/http/pprof's own default.
	defaultSeconds int
	// local resources are answered by the sidecar from its own samples,
	// not forwarded: cheap reads, neither exclusive nor rate-limited, that
	// take no parameter.
	local bool
}

// param checks one query parameter's value.
type param func(v string) error

// resources are what the sidecar serves, by name: its own stats and
// history, and the app's pprof profiles it forwards. Nothing else of the
// app's pprof (cmdline, symbol, the index) is reachable.
var resources = map[string]resource{
	api.Stats:     {name: api.Stats, local: true},
	api.History:   {name: api.History, local: true},
	api.Profile:   {name: api.Profile, params: map[string]param{"seconds": seconds}, exclusive: true, defaultSeconds: 30},
	api.Trace:     {name: api.Trace, params: map[string]param{"seconds": seconds}, exclusive: true, defaultSeconds: 1},
	api.Heap:      {name: api.Heap, params: map[string]param{"gc": oneOf("0", "1"), "debug": oneOf("0", "1"), "seconds": seconds}},
	api.Allocs:    {name: api.Allocs, params: map[string]param{"debug": oneOf("0", "1"), "seconds": seconds}},
	api.Goroutine: {name: api.Goroutine, params: map[string]param{"debug": oneOf("0", "1", "2")}},
	api.Mutex:     {name: api.Mutex, params: map[string]param{"debug": oneOf("0", "1"), "seconds": seconds}},
	api.Block:     {name: api.Block, params: map[string]param{"debug": oneOf("0", "1"), "seconds": seconds}},
}

// ResourceNames lists the resources, sorted: the diagnostics server serves
// and lists exactly these.
func ResourceNames() []string {
	names := make([]string, 0, len(resources))
	for name := range resources {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func seconds(v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("%q is not a whole number of seconds (1-%d)", v, MaxSeconds)
	}
	if n > MaxSeconds {
		return fmt.Errorf("%ds is longer than the maximum %ds (the API server ends aggregated requests at 60s)", n, MaxSeconds)
	}
	return nil
}

func oneOf(allowed ...string) param {
	return func(v string) error {
		if !slices.Contains(allowed, v) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
		}
		return nil
	}
}

// query checks a request's raw query against the resource and returns the
// query to send to the app, rebuilt from the checked values only, and how
// long the app will take to answer (the requested or default seconds).
func (r resource) query(raw string) (string, time.Duration, error) {
	if len(r.params) == 0 && raw != "" {
		return "", 0, fmt.Errorf("%s takes no query parameters, got %q", r.name, bounded(raw))
	}
	if len(raw) > maxQueryBytes {
		return "", 0, fmt.Errorf("the query is %d bytes, over the %d-byte limit", len(raw), maxQueryBytes)
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return "", 0, fmt.Errorf("malformed query: %w", err)
	}
	out := url.Values{}
	for key, vs := range values {
		check, ok := r.params[key]
		if !ok {
			return "", 0, fmt.Errorf("%s takes no parameter %q (it takes: %s)", r.name, key, r.paramNames())
		}
		if len(vs) != 1 {
			return "", 0, fmt.Errorf("parameter %q is given %d times", key, len(vs))
		}
		if err := check(vs[0]); err != nil {
			return "", 0, fmt.Errorf("parameter %s: %w", key, err)
		}
		out.Set(key, vs[0])
	}
	secs := r.defaultSeconds
	if v := out.Get("seconds"); v != "" {
		secs, _ = strconv.Atoi(v) // checked above
	} else if r.exclusive {
		out.Set("seconds", strconv.Itoa(secs))
	}
	return out.Encode(), time.Duration(secs) * time.Second, nil
}

func (r resource) paramNames() string {
	names := make([]string, 0, len(r.params))
	for name := range r.params {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Duration is how long the app takes, by design, to answer the resource
// with this raw query (a profile's or trace's seconds, or their default);
// 0 for dumps, for other resources and for a query the sidecar will refuse.
// A client adds its allowance for the app and the network to it.
func Duration(name, rawQuery string) time.Duration {
	r, ok := resources[name]
	if !ok {
		return 0
	}
	_, d, err := r.query(rawQuery)
	if err != nil {
		return 0
	}
	return d
}
