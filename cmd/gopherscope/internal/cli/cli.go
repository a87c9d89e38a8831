package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/version"
)

// Exit codes of Main.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usage = `gopherscope: Go runtime introspection for Kubernetes workloads.

Usage:
  gopherscope inject -f FILE|- [--config FILE] [--kube-version 1.28]
      Add the gopherscope sidecar to the Pods and pod templates (Deployment,
      StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) of multi-document YAML
      and write it to stdout; other documents pass through unchanged.
      Warnings go to stderr. Pods that opt out are left alone.
  gopherscope version
      Print the version.
`

// Main runs the command line args (without the program name) and returns
// the process's exit code. It reads files only where args name them.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		_, _ = fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "inject":
		err = runInject(args[1:], stdin, stdout, stderr)
	case "version":
		_, err = fmt.Fprintln(stdout, version.Version)
	case "help", "-h", "-help", "--help":
		_, _ = fmt.Fprint(stdout, usage)
		return exitOK
	default:
		_, _ = fmt.Fprintf(stderr, "gopherscope: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	var usageErr usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &usageErr):
		_, _ = fmt.Fprintf(stderr, "gopherscope %s: %v\n", args[0], err)
		return exitUsage
	default:
		_, _ = fmt.Fprintf(stderr, "gopherscope %s: %v\n", args[0], err)
		return exitError
	}
}

// usageError is a mistake on the command line.
type usageError struct{ error }

// injectOptions are the flags of `gopherscope inject`.
type injectOptions struct {
	file        string
	configPath  string
	kubeVersion string
}

// runInject parses the flags of `inject` and runs it.
func runInject(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var opts injectOptions
	fs := flag.NewFlagSet("inject", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.file, "f", "", "the YAML to inject: a file, or - for stdin (required)")
	fs.StringVar(&opts.configPath, "config", "", "injection config file (default: built-in defaults)")
	fs.StringVar(&opts.kubeVersion, "kube-version", "", "the oldest Kubernetes version in the cluster, API server or kubelet, e.g. 1.28, to choose native or classic sidecars (default: native)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	case opts.file == "":
		return usageError{errors.New("-f FILE (or -f - for stdin) is required")}
	}

	cfg, err := loadConfig(opts)
	if err != nil {
		return err
	}
	data, err := readInput(opts.file, stdin)
	if err != nil {
		return err
	}
	out, warnings, err := injectStream(data, cfg)
	for _, w := range warnings {
		_, _ = fmt.Fprintln(stderr, w)
	}
	if err != nil {
		return err
	}
	if _, err := stdout.Write(out); err != nil {
		return fmt.Errorf("write the output: %w", err)
	}
	return nil
}

// loadConfig reads the config file (or the defaults) and resolves the
// sidecar kind for the given Kubernetes version; without one, a supported
// cluster (native sidecars) is assumed.
func loadConfig(opts injectOptions) (*config.Config, error) {
	cfg := config.Default(version.Version)
	if opts.configPath != "" {
		var err error
		if cfg, err = config.Load(opts.configPath, version.Version); err != nil {
			return nil, err
		}
	}
	minor := config.NativeSidecarMinMinor
	if opts.kubeVersion != "" {
		var err error
		if minor, err = config.ParseKubeMinor(opts.kubeVersion); err != nil {
			return nil, usageError{fmt.Errorf("--kube-version: %w", err)}
		}
	}
	cfg = cfg.ResolveNativeSidecar(minor)
	cfg.InjectorVersion = version.Version
	return cfg, nil
}

// readInput reads the named file, or stdin for "-".
func readInput(file string, stdin io.Reader) ([]byte, error) {
	if file == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return data, nil
	}
	data, err := os.ReadFile(file) //nolint:gosec // G304: reading the file the user names is the command's job
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", file, err)
	}
	return data, nil
}
