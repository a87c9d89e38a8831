package cli

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/gopherscope/gopherscope/diagnostics/api"
	sidecardiag "github.com/gopherscope/gopherscope/sidecar/diagnostics"
)

const profileHelp = `Take a pprof profile of an injected pod's app through the diagnostics API
(RBAC: get on pods/profile, pods/heap, ... in diagnostics.gopherscope.io),
write it to FILE for go tool pprof, and print its top functions.

Usage:
  gopherscope profile POD [--cpu DURATION | --heap | --allocs | --mutex | --block] -o FILE [flags]

Without a kind, a 30s CPU profile is taken. A CPU profile lasts at most 45s
(the API server ends aggregated requests at 60s). FILE appears only once
the whole profile has arrived and parses; it is readable by you alone, as
profiles can hold what the app has in memory.

Examples:
  # A heap profile of a pod of namespace shop, then pprof's web view.
  gopherscope profile -n shop checkout-7d9f8c5b4-x2x9q --heap -o heap.pb.gz
  go tool pprof -http=: heap.pb.gz

  # 20 seconds of CPU.
  gopherscope profile -n shop checkout-7d9f8c5b4-x2x9q --cpu 20s -o cpu.pb.gz
`

// profileKind is one kind of pprof profile: its API resource and the
// sample type its summary ranks functions by.
type profileKind struct {
	resource, sampleType, what string
}

// profileOptions are the flags of `gopherscope profile`.
type profileOptions struct {
	kube                       *genericclioptions.ConfigFlags
	cpu                        time.Duration
	heap, allocs, mutex, block bool
	output                     string
}

// profileCommand is `gopherscope profile`.
func profileCommand() command {
	return command{
		name:      "profile",
		summary:   "Write a pod's CPU, heap, allocs, mutex or block profile and print its top functions.",
		help:      profileHelp,
		exitCodes: diagExitCodesHelp,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, Streams) error {
			var o profileOptions
			fs.DurationVar(&o.cpu, "cpu", 0, "a CPU profile this long (1s to 45s; the default kind, for 30s)")
			fs.BoolVar(&o.heap, "heap", false, "a heap profile: the memory in use, by where it was allocated")
			fs.BoolVar(&o.allocs, "allocs", false, "an allocation profile: every allocation since the app started")
			fs.BoolVar(&o.mutex, "mutex", false, "a mutex profile: time spent waiting for contended locks (needs runtime.SetMutexProfileFraction in the app)")
			fs.BoolVar(&o.block, "block", false, "a block profile: time spent blocked (needs runtime.SetBlockProfileRate in the app)")
			fs.StringVarP(&o.output, "output", "o", "", "the file to write (required)")
			o.kube = kubeFlags(fs)
			return func(ctx context.Context, args []string, s Streams) error {
				return runProfile(ctx, &o, fs.Changed("cpu"), args, s)
			}
		},
	}
}

// runProfile takes the profile the options ask for.
func runProfile(ctx context.Context, o *profileOptions, cpuSet bool, args []string, s Streams) error {
	pod, err := podArg(args)
	if err != nil {
		return err
	}
	kinds := 0
	for _, set := range []bool{cpuSet, o.heap, o.allocs, o.mutex, o.block} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		return usageError{fmt.Errorf("give one of --cpu, --heap, --allocs, --mutex and --block")}
	}
	if o.output == "" {
		return usageError{fmt.Errorf("-o FILE is required: where to write the profile")}
	}
	kind, query := profileKind{resource: api.Profile, sampleType: "cpu", what: "CPU profile"}, url.Values{}
	switch {
	case o.heap:
		kind = profileKind{resource: api.Heap, sampleType: "inuse_space", what: "heap profile"}
	case o.allocs:
		kind = profileKind{resource: api.Allocs, sampleType: "alloc_space", what: "allocation profile"}
	case o.mutex:
		kind = profileKind{resource: api.Mutex, sampleType: "delay", what: "mutex profile"}
	case o.block:
		kind = profileKind{resource: api.Block, sampleType: "delay", what: "block profile"}
	default:
		d := 30 * time.Second
		if cpuSet {
			d = o.cpu
		}
		n, err := durationSeconds("--cpu", d)
		if err != nil {
			return err
		}
		query.Set("seconds", strconv.Itoa(n))
		kind.what = fmt.Sprintf("%ds CPU profile", n)
	}
	client, err := newDiagClient(o.kube)
	if err != nil {
		return err
	}
	if kind.resource == api.Profile {
		_, _ = fmt.Fprintf(s.ErrOut, "Taking a %s of %s/%s...\n", kind.what, client.namespace, pod)
	}
	d := download{namespace: client.namespace, pod: pod, resource: kind.resource, query: query, path: o.output, check: checkProfile}
	n, err := d.run(ctx, client)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(s.Out, "Wrote %s (%s): the %s of %s/%s; open it with go tool pprof %s\n\n",
		o.output, quantity(n, "bytes"), kind.what, client.namespace, pod, o.output)
	return writeSummary(s.Out, o.output, kind.sampleType)
}

// durationSeconds checks a profile's or trace's duration against the
// diagnostics API's limit, in whole seconds (rounded up).
func durationSeconds(flag string, d time.Duration) (int, error) {
	n := int(math.Ceil(d.Seconds()))
	switch {
	case n < 1:
		return 0, usageError{fmt.Errorf("%s %s: want 1s or more", flag, d)}
	case n > sidecardiag.MaxSeconds:
		return 0, usageError{fmt.Errorf("%s %s is longer than the %ds the diagnostics API allows (the API server ends aggregated requests at 60s): take %ds or less, or several in a row",
			flag, d, sidecardiag.MaxSeconds, sidecardiag.MaxSeconds)}
	}
	return n, nil
}
