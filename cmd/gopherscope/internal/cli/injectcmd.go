package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/version"
)

const injectHelp = `Add the gopherscope sidecar to the Pods and pod templates (Deployment,
StatefulSet, DaemonSet, ReplicaSet, Job, CronJob) of Kubernetes manifests,
offline (GitOps, CI), as the webhook would, and write them to stdout.

Usage:
  gopherscope inject -f FILENAME [-f FILENAME ...] [flags]

Every -f is read in the order given: a file, a directory (its .yaml, .yml
and .json files; their subdirectories too with -R), or - for stdin. YAML
streams (several documents separated by ---) and a kind: List (what
kubectl get -o yaml prints) are injected object by object; every other
document passes through unchanged, comments included. JSON in gives JSON
out. A summary goes to stderr, one line per Pod or workload:
  deployment/web injected
  pod/debug skipped: the pod's annotation gopherscope.io/inject is "false"
with the warnings about the object before it. Nothing is written to stdout
unless every input was read and injected.

Offline there is no namespace to look at: every Pod and workload is
injected unless it opts out (label gopherscope.io/inject=disabled or
annotation gopherscope.io/inject: "false") or is excluded (hostNetwork,
Windows). Without --config the built-in defaults are used; to inject
exactly as the webhook of a cluster does, use its config: either read it
through the API server with --config-from-cluster (your kubeconfig, get on
the ConfigMap), or save it once and pass it with --config:
  kubectl get configmap gopherscope-config -n gopherscope \
    -o jsonpath='{.data.config\.yaml}' > injection.yaml
(the ConfigMap is RELEASE-config, in the release's namespace, for a
release not named gopherscope).

Examples:
  # Inject one file, write the result to another.
  gopherscope inject -f deploy.yaml > deploy.injected.yaml

  # Several files and a directory tree, in this order.
  gopherscope inject -f namespace.yaml -f deploy/ -R -f cronjob.json

  # A kustomize build, with the cluster's own injection config.
  kustomize build overlays/prod | gopherscope inject -f - --config-from-cluster | kubectl apply -f -

  # What kubectl get prints (a List), with a saved config.
  kubectl get deploy -n shop -o yaml | gopherscope inject -f - --config injection.yaml

  # A cluster whose oldest kubelet is 1.28: a regular container, not a native sidecar.
  gopherscope inject -f deploy.yaml --kube-version 1.28
`

// injectOptions are the flags of `gopherscope inject`.
type injectOptions struct {
	filenames   []string
	recursive   bool
	configPath  string
	kubeVersion string
	cluster     clusterConfigOptions
}

// addFlags declares the flags on fs, bound to o.
func (o *injectOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringSliceVarP(&o.filenames, "filename", "f", nil, "a file, a directory, or - for stdin; repeat it or separate names with commas for more, read in order (required)")
	fs.BoolVarP(&o.recursive, "recursive", "R", false, "read the directories given with -f and their subdirectories")
	fs.StringVar(&o.configPath, "config", "", "injection config file, e.g. saved from the cluster (default: built-in defaults)")
	o.cluster.addFlags(fs)
	fs.StringVar(&o.kubeVersion, "kube-version", "",
		"the oldest Kubernetes version in the cluster, API server or kubelet, e.g. 1.28, to choose native or classic sidecars (default: native)")
}

// validate checks the flags that need no file or cluster.
func (o *injectOptions) validate(args []string) error {
	switch {
	case len(args) > 0:
		return usageError{fmt.Errorf("unexpected arguments %q (give files with -f)", args)}
	case len(o.filenames) == 0:
		return usageError{errors.New("-f FILENAME (or -f - for stdin) is required")}
	case o.configPath != "" && o.cluster.enabled:
		return usageError{errors.New("--config and --config-from-cluster are exclusive: give one")}
	}
	stdin := 0
	for _, f := range o.filenames {
		if f == "" {
			return usageError{errors.New("-f with an empty name")}
		}
		if f == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usageError{errors.New("-f - (stdin) can be given only once")}
	}
	return nil
}

// injectCommand is `gopherscope inject`.
func injectCommand() command {
	return command{
		name:    "inject",
		summary: "Add the sidecar to manifests offline (GitOps, CI), like istioctl kube-inject.",
		help:    injectHelp,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, Streams) error {
			var opts injectOptions
			opts.addFlags(fs)
			return func(ctx context.Context, args []string, s Streams) error {
				return runInject(ctx, opts, args, s)
			}
		},
	}
}

// runInject reads the config and every input, injects them, and writes the
// result to stdout only when everything succeeded.
func runInject(ctx context.Context, opts injectOptions, args []string, s Streams) error {
	if err := opts.validate(args); err != nil {
		return err
	}
	cfg, err := loadConfig(ctx, opts)
	if err != nil {
		return err
	}
	inputs, err := readInputs(opts.filenames, opts.recursive, s.In)
	if err != nil {
		return err
	}
	out, lines, err := injectInputs(inputs, cfg)
	for _, l := range lines {
		_, _ = fmt.Fprintln(s.ErrOut, l)
	}
	if err != nil {
		return err
	}
	if _, err := s.Out.Write(out); err != nil {
		return fmt.Errorf("write the output: %w", err)
	}
	return nil
}

// loadConfig reads the config (a file, the cluster's ConfigMap, or the
// defaults) and resolves the sidecar kind: for --kube-version, else for the
// cluster's versions with --config-from-cluster, else for a supported
// cluster (native sidecars).
func loadConfig(ctx context.Context, opts injectOptions) (*config.Config, error) {
	minor := config.NativeSidecarMinMinor
	if opts.kubeVersion != "" {
		var err error
		if minor, err = config.ParseKubeMinor(opts.kubeVersion); err != nil {
			return nil, usageError{fmt.Errorf("--kube-version: %w", err)}
		}
	}
	cfg := config.Default(version.Version)
	switch {
	case opts.configPath != "":
		var err error
		if cfg, err = config.Load(opts.configPath, version.Version); err != nil {
			return nil, err
		}
	case opts.cluster.enabled:
		fromCluster, err := opts.cluster.load(ctx, opts.kubeVersion == "")
		if err != nil {
			return nil, err
		}
		cfg = fromCluster.cfg
		if opts.kubeVersion == "" {
			cfg = cfg.ResolveNativeSidecarFor(fromCluster.serverMinor, fromCluster.oldestKubeletMinor)
			cfg.InjectorVersion = version.Version
			return cfg, nil
		}
	}
	cfg = cfg.ResolveNativeSidecar(minor)
	cfg.InjectorVersion = version.Version
	return cfg, nil
}
