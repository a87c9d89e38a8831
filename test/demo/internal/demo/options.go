package demo

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/gopherscope/gopherscope/test/localcluster"
)

// Options configure the demo.
type Options struct {
	// Duration ends the demo on its own after this long once everything
	// runs; 0 runs until Ctrl-C.
	Duration time.Duration
	// RepoRoot holds charts/ and bin/ (kube-apiserver, etcd, helm).
	RepoRoot string
	// BinDir holds the webhook, sidecar and demo-app binaries (default
	// RepoRoot/bin, fresh from `make build`).
	BinDir string
	// WorkDir receives the kubeconfig, certificates and logs; empty means a
	// new temporary directory, removed at the end unless Keep.
	WorkDir string
	// Keep keeps a temporary WorkDir at the end.
	Keep bool
	// RowEvery is how often a row of metrics is printed.
	RowEvery time.Duration
	// Mode is where the pod runs: ModeNode, ModeProcess or ModeAuto (the
	// node where this machine can run it).
	Mode string
	// Out receives the story.
	Out io.Writer
	// NodeUnavailable says why ModeAuto chose ModeProcess.
	NodeUnavailable error
}

// ResolveMode turns ModeAuto into ModeNode where this machine can run the
// real node, else into ModeProcess, keeping the reason in NodeUnavailable.
// ModeNode on a machine that cannot run it is an error naming the reason.
func (o *Options) ResolveMode() error {
	why := localcluster.NodeSupported()
	switch o.Mode {
	case ModeAuto:
		o.Mode, o.NodeUnavailable = ModeNode, why
		if why != nil {
			o.Mode = ModeProcess
		}
	case ModeNode:
		if why != nil {
			return fmt.Errorf("--mode node: %w", why)
		}
	}
	return nil
}

// NewOptions returns the defaults; durationEnv is the value of
// DEMO_DURATION (a Go duration, or empty).
func NewOptions(durationEnv string, out io.Writer) (*Options, error) {
	o := &Options{RowEvery: 3 * time.Second, Out: out, Mode: ModeAuto}
	if durationEnv != "" {
		d, err := time.ParseDuration(durationEnv)
		if err != nil {
			return nil, fmt.Errorf("DEMO_DURATION %q: want a Go duration such as 30s", durationEnv)
		}
		o.Duration = d
	}
	if root, err := findRepoRoot(); err == nil {
		o.RepoRoot = root
	}
	return o, nil
}

// AddFlags declares the flags on fs, bound to o.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.DurationVar(&o.Duration, "duration", o.Duration, "stop on its own after this long (0: run until Ctrl-C; default from DEMO_DURATION)")
	fs.StringVar(&o.RepoRoot, "repo-root", o.RepoRoot, "the gopherscope repository (charts/, bin/)")
	fs.StringVar(&o.BinDir, "bin-dir", o.BinDir, "where the webhook, sidecar and demo-app binaries are (default: REPO/bin)")
	fs.StringVar(&o.WorkDir, "work-dir", o.WorkDir, "where to put the kubeconfig, certificates and logs (default: a temporary directory)")
	fs.BoolVar(&o.Keep, "keep", o.Keep, "keep the temporary work directory at the end")
	fs.DurationVar(&o.RowEvery, "row-every", o.RowEvery, "how often to print a row of metrics")
	fs.StringVar(&o.Mode, "mode", o.Mode, "where the pod runs: node (a real kubelet and containerd; needs root), process (local processes), or auto (node where it can run)")
}

// Where the demo's pod runs.
const (
	ModeAuto    = "auto"
	ModeNode    = "node"
	ModeProcess = "process"
)

// Validate reports every problem with the options at once.
func (o *Options) Validate() error {
	var errs []error
	if o.Duration < 0 {
		errs = append(errs, fmt.Errorf("--duration %s: must not be negative", o.Duration))
	}
	if o.RowEvery < time.Second {
		errs = append(errs, fmt.Errorf("--row-every %s: at least 1s", o.RowEvery))
	}
	switch o.Mode {
	case ModeAuto, ModeNode, ModeProcess:
	default:
		errs = append(errs, fmt.Errorf("--mode %q: want node, process or auto", o.Mode))
	}
	if o.RepoRoot == "" {
		errs = append(errs, errors.New("--repo-root: not found above the working directory; run `make demo` in the repository"))
	} else if _, err := os.Stat(filepath.Join(o.RepoRoot, "charts", "gopherscope", "Chart.yaml")); err != nil {
		errs = append(errs, fmt.Errorf("--repo-root %q: no charts/gopherscope in it", o.RepoRoot))
	}
	for _, name := range []string{"webhook", "sidecar", "demo-app"} {
		if _, err := os.Stat(o.binary(name)); err != nil {
			errs = append(errs, fmt.Errorf("binary %s not in %s (run `make demo`, which builds it)", name, filepath.Dir(o.binary(name))))
		}
	}
	tools := []string{"kube-apiserver", "etcd", "helm"}
	if o.Mode == ModeNode {
		tools = append(tools, "kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubectl")
	}
	for _, name := range tools {
		if _, err := os.Stat(filepath.Join(o.RepoRoot, "bin", name)); err != nil {
			errs = append(errs, fmt.Errorf("bin/%s is missing (run `make demo`, which builds it)", name))
		}
	}
	return errors.Join(errs...)
}

// binary is the path of one of the product's binaries.
func (o *Options) binary(name string) string {
	dir := o.BinDir
	if dir == "" {
		dir = filepath.Join(o.RepoRoot, "bin")
	}
	return filepath.Join(dir, name)
}

// findRepoRoot returns the nearest directory at or above the working
// directory that holds go.mod.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the repository: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find the repository: no go.mod above the working directory")
		}
		dir = parent
	}
}
