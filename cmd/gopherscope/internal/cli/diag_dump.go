package cli

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/gopherscope/gopherscope/diagnostics/api"
)

const goroutinesHelp = `Print the goroutines of an injected pod's app, through the diagnostics API
(RBAC: get on pods/goroutine in diagnostics.gopherscope.io).

Usage:
  gopherscope goroutines POD [--debug 1|2] [-o FILE] [flags]

--debug 1 groups goroutines with the same stack and counts them; --debug 2
prints every goroutine with its state and how long it has waited, as a
panic does. --debug 0 is the pprof profile, written to -o FILE only. With
-o, FILE appears only once the whole dump has arrived.

Examples:
  gopherscope goroutines -n shop checkout-7d9f8c5b4-x2x9q | less
  gopherscope goroutines -n shop checkout-7d9f8c5b4-x2x9q --debug 2 -o goroutines.txt
  gopherscope goroutines -n shop checkout-7d9f8c5b4-x2x9q --debug 0 -o goroutines.pb.gz
`

// goroutinesOptions are the flags of `gopherscope goroutines`.
type goroutinesOptions struct {
	kube   *genericclioptions.ConfigFlags
	debug  int
	output string
}

// goroutinesCommand is `gopherscope goroutines`.
func goroutinesCommand() command {
	return command{
		name:      "goroutines",
		summary:   "Print or write a pod's goroutine dump.",
		help:      goroutinesHelp,
		exitCodes: diagExitCodesHelp,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, Streams) error {
			var o goroutinesOptions
			fs.IntVar(&o.debug, "debug", 1, "1: stacks grouped and counted; 2: every goroutine; 0: the pprof profile (with -o)")
			fs.StringVarP(&o.output, "output", "o", "", "write the dump to this file instead of stdout")
			o.kube = kubeFlags(fs)
			return func(ctx context.Context, args []string, s Streams) error { return runGoroutines(ctx, &o, args, s) }
		},
	}
}

// runGoroutines prints or writes the dump.
func runGoroutines(ctx context.Context, o *goroutinesOptions, args []string, s Streams) error {
	pod, err := podArg(args)
	if err != nil {
		return err
	}
	switch {
	case o.debug < 0 || o.debug > 2:
		return usageError{fmt.Errorf("--debug %d: want 1, 2, or 0 (with -o)", o.debug)}
	case o.debug == 0 && o.output == "":
		return usageError{fmt.Errorf("--debug 0 is a binary pprof profile: give -o FILE")}
	}
	client, err := newDiagClient(o.kube)
	if err != nil {
		return err
	}
	d := download{namespace: client.namespace, pod: pod, resource: api.Goroutine,
		query: url.Values{"debug": {strconv.Itoa(o.debug)}}, path: o.output}
	if o.output == "" {
		return d.copyTo(ctx, client, s.Out)
	}
	if o.debug == 0 {
		d.check = checkProfile
	}
	n, err := d.run(ctx, client)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(s.Out, "Wrote %s (%s): the goroutines of %s/%s\n", o.output, quantity(n, "bytes"), client.namespace, pod)
	if o.debug != 0 {
		return nil
	}
	_, _ = fmt.Fprintf(s.Out, "Open it with go tool pprof %s\n\n", o.output)
	return writeSummary(s.Out, o.output, "goroutine")
}

const traceHelp = `Record an execution trace of an injected pod's app through the diagnostics
API (RBAC: get on pods/trace in diagnostics.gopherscope.io) and write it to
FILE for go tool trace.

Usage:
  gopherscope trace POD [--seconds N] -o FILE [flags]

A trace lasts at most 45s (the API server ends aggregated requests at 60s);
FILE appears only once the whole trace has arrived.

Examples:
  gopherscope trace -n shop checkout-7d9f8c5b4-x2x9q --seconds 5 -o trace.out
  go tool trace trace.out
`

// traceOptions are the flags of `gopherscope trace`.
type traceOptions struct {
	kube    *genericclioptions.ConfigFlags
	seconds int
	output  string
}

// traceCommand is `gopherscope trace`.
func traceCommand() command {
	return command{
		name:      "trace",
		summary:   "Write a pod's execution trace for go tool trace.",
		help:      traceHelp,
		exitCodes: diagExitCodesHelp,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, Streams) error {
			var o traceOptions
			fs.IntVar(&o.seconds, "seconds", 5, "how long to trace (1 to 45)")
			fs.StringVarP(&o.output, "output", "o", "", "the file to write (required)")
			o.kube = kubeFlags(fs)
			return func(ctx context.Context, args []string, s Streams) error { return runTrace(ctx, &o, args, s) }
		},
	}
}

// runTrace records the trace.
func runTrace(ctx context.Context, o *traceOptions, args []string, s Streams) error {
	pod, err := podArg(args)
	if err != nil {
		return err
	}
	n, err := durationSeconds("--seconds", time.Duration(o.seconds)*time.Second)
	if err != nil {
		return err
	}
	if o.output == "" {
		return usageError{fmt.Errorf("-o FILE is required: where to write the trace")}
	}
	client, err := newDiagClient(o.kube)
	if err != nil {
		return err
	}
	_, _ = fmt.Fprintf(s.ErrOut, "Tracing %s/%s for %ds...\n", client.namespace, pod, n)
	d := download{namespace: client.namespace, pod: pod, resource: api.Trace,
		query: url.Values{"seconds": {strconv.Itoa(n)}}, path: o.output}
	size, err := d.run(ctx, client)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "Wrote %s (%s): a %ds execution trace of %s/%s; open it with go tool trace %s\n",
		o.output, quantity(size, "bytes"), n, client.namespace, pod, o.output)
	return err
}
