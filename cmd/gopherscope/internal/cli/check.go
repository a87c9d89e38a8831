package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gopherscope/gopherscope/version"
)

const checkHelp = `Say, for each pod, whether it carries the gopherscope sidecar and why:
the namespace's and the pod's labels and annotations, an excluded
namespace, hostNetwork, Windows, a pod created before the webhook was
ready, a webhook the API server cannot reach, a sidecar older than the
webhook's. Read-only: it reads through the API server with your kubeconfig,
and asks the webhook with a server-side dry-run create of the pod's
template (nothing is created).

Usage:
  gopherscope check [-n NAMESPACE] [POD | -l SELECTOR] [flags]

Each row says POD, INJECTED, REASON and a HINT: the one command or label
that fixes it. -o json prints the same as a JSON array.

Examples:
  # Every pod of namespace shop.
  gopherscope check -n shop

  # One pod.
  gopherscope check -n shop web-7d9f8c5b4-x2x9q

  # The pods of a Deployment, as JSON.
  gopherscope check -n shop -l app=web -o json

  # gopherscope installed as release "gs" in namespace "observability".
  gopherscope check -n shop --webhook-namespace observability --release gs
`

// checkOptions are the flags of `gopherscope check`.
type checkOptions struct {
	kubeconfig       string
	overrides        clientcmd.ConfigOverrides
	selector         string
	output           string
	webhookNamespace string
	release          string
}

// checkCommand is `gopherscope check`.
func checkCommand() command {
	return command{
		name:    "check",
		summary: "Say why pods were, or were not, injected (read-only, through the API server).",
		help:    checkHelp,
		setup: func(fs *pflag.FlagSet) func(context.Context, []string, Streams) error {
			var o checkOptions
			fs.StringVarP(&o.selector, "selector", "l", "", "check the pods this label selector matches (default: every pod of the namespace)")
			fs.StringVarP(&o.output, "output", "o", "table", "output format: table or json")
			fs.StringVar(&o.webhookNamespace, "webhook-namespace", defaultConfigNamespace, "the namespace gopherscope is installed in, when its webhook configuration does not say (an out-of-cluster webhook)")
			fs.StringVar(&o.release, "release", "gopherscope", "the release's full name (its MutatingWebhookConfiguration), used when webhook configurations cannot be listed")
			fs.StringVar(&o.kubeconfig, "kubeconfig", "", "the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
			clientcmd.BindOverrideFlags(&o.overrides, fs, clientcmd.RecommendedConfigOverrideFlags(""))
			return func(ctx context.Context, args []string, s Streams) error { return runCheck(ctx, &o, args, s) }
		},
	}
}

// runCheck checks the pods args and the options name and prints the report.
func runCheck(ctx context.Context, o *checkOptions, args []string, s Streams) error {
	switch {
	case len(args) > 1:
		return usageError{fmt.Errorf("at most one POD, got %q", args)}
	case len(args) == 1 && o.selector != "":
		return usageError{errors.New("give a POD or -l SELECTOR, not both")}
	case o.output != "table" && o.output != "json":
		return usageError{fmt.Errorf("-o %q: want table or json", o.output)}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &o.overrides)
	restConfig, err := loader.ClientConfig()
	if err != nil {
		return usageError{fmt.Errorf("kubeconfig: %w", err)}
	}
	namespace, _, err := loader.Namespace()
	if err != nil {
		return usageError{fmt.Errorf("kubeconfig namespace: %w", err)}
	}
	restConfig.UserAgent = "gopherscope-cli/" + version.Version
	// The dry-run's admission warnings are in the reports already.
	restConfig.WarningHandler = rest.NoWarnings{}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	pods, err := listCheckedPods(ctx, client, namespace, args, o.selector)
	if err != nil {
		return err
	}
	inst := findInstallation(ctx, client, o.webhookNamespace, o.release)
	c := &checker{client: client, inst: inst, namespace: namespace}
	if err := c.loadNamespace(ctx); err != nil {
		return err
	}
	reports := make([]podReport, 0, len(pods))
	for i := range pods {
		reports = append(reports, c.check(ctx, &pods[i]))
	}
	if o.output == "json" {
		for _, n := range inst.notes {
			_, _ = fmt.Fprintf(s.ErrOut, "note: %s\n", n)
		}
		return writeCheckJSON(s.Out, reports)
	}
	return writeCheckTable(s.Out, inst, reports)
}

// listCheckedPods reads the named pod, or the pods the selector matches.
func listCheckedPods(ctx context.Context, client kubernetes.Interface, namespace string, args []string, selector string) ([]corev1.Pod, error) {
	if len(args) == 1 {
		pod, err := client.CoreV1().Pods(namespace).Get(ctx, args[0], metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("get pod %s/%s: %w", namespace, args[0], err)
		}
		return []corev1.Pod{*pod}, nil
	}
	list, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", namespace, err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no pods in namespace %s match %q", namespace, selector)
	}
	return list.Items, nil
}
