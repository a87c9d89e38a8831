package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// options are the command line.
type options struct {
	RepoRoot    string
	WorkDir     string
	Keep        bool
	Rate        float64
	Duration    time.Duration
	Connections int
	Reconnect   time.Duration
	RotateEvery time.Duration
	ConfigEvery time.Duration
	Scenarios   string
}

func (o *options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.RepoRoot, "repo", ".", "repository root (bin/webhook, bin/kube-apiserver, bin/etcd)")
	fs.StringVar(&o.WorkDir, "work-dir", "", "scratch directory for logs and files (default: a new temporary one, removed after a clean run)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the work directory")
	fs.Float64Var(&o.Rate, "rate", 1000, "AdmissionReviews per second (open loop)")
	fs.DurationVar(&o.Duration, "duration", 60*time.Second, "length of each scenario")
	fs.IntVar(&o.Connections, "connections", 16, "concurrent keep-alive connections")
	fs.DurationVar(&o.Reconnect, "reconnect", time.Second, "during rotation, each connection is re-dialled this often")
	fs.DurationVar(&o.RotateEvery, "rotate-every", 5*time.Second, "certificate rotation period")
	fs.DurationVar(&o.ConfigEvery, "config-every", 5*time.Second, "config rewrite period")
	fs.StringVar(&o.Scenarios, "scenarios", "steady,rotation,config", "scenarios to run, comma-separated")
}

func (o *options) Validate() error {
	var errs []error
	if o.Rate <= 0 || o.Connections < 1 || o.Duration < 10*time.Second {
		errs = append(errs, fmt.Errorf("want rate > 0, connections >= 1 and duration >= 10s; got %g, %d, %s", o.Rate, o.Connections, o.Duration))
	}
	if o.Reconnect <= 0 || o.RotateEvery <= 0 || o.ConfigEvery <= 0 {
		errs = append(errs, errors.New("--reconnect, --rotate-every and --config-every must be positive"))
	}
	for s := range strings.SplitSeq(o.Scenarios, ",") {
		if _, ok := scenarios[s]; !ok {
			errs = append(errs, fmt.Errorf("--scenarios: unknown scenario %q", s))
		}
	}
	return errors.Join(errs...)
}

func main() {
	os.Exit(execute())
}

// execute parses the flags and runs the soak; it returns the exit code.
func execute() int {
	opts := &options{}
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	opts.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 2
	}
	// envtest and client-go log through controller-runtime; the report
	// says what happened instead.
	logf.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		return 1
	}
	return 0
}
