package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/version"
)

// The chart's defaults: release gopherscope in namespace gopherscope, whose
// ConfigMap RELEASE-config holds the injection config under config.yaml
// (charts/gopherscope/templates/configmap.yaml).
const (
	defaultConfigNamespace = "gopherscope"
	defaultConfigMap       = "gopherscope-config"
	configMapKey           = "config.yaml"
)

// clusterConfigOptions say where --config-from-cluster reads the webhook's
// injection config, and with which kubeconfig.
type clusterConfigOptions struct {
	enabled    bool
	namespace  string
	name       string
	kubeconfig string
	context    string
}

// addFlags declares the flags on fs, bound to o.
func (o *clusterConfigOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.enabled, "config-from-cluster", false,
		"read the webhook's injection config from its ConfigMap through the API server, with your kubeconfig; without --kube-version, the cluster's versions choose the sidecar kind as the webhook does")
	fs.StringVar(&o.namespace, "config-namespace", defaultConfigNamespace, "with --config-from-cluster: the namespace gopherscope is installed in")
	fs.StringVar(&o.name, "config-map", defaultConfigMap, "with --config-from-cluster: the ConfigMap (RELEASE-config)")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "with --config-from-cluster: the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&o.context, "context", "", "with --config-from-cluster: the kubeconfig context (default: the current one)")
}

// clusterConfig is what --config-from-cluster reads: the config, and the
// versions that choose the sidecar kind as the webhook does.
type clusterConfig struct {
	cfg                *config.Config
	serverMinor        int
	oldestKubeletMinor int
}

// load reads and validates the ConfigMap's config, and the cluster's
// versions unless readVersions is false.
func (o *clusterConfigOptions) load(ctx context.Context, readVersions bool) (clusterConfig, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	restConfig, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: o.context}).ClientConfig()
	if err != nil {
		return clusterConfig{}, fmt.Errorf("--config-from-cluster: kubeconfig: %w", err)
	}
	restConfig.UserAgent = "gopherscope-cli/" + version.Version
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return clusterConfig{}, fmt.Errorf("--config-from-cluster: %w", err)
	}
	cm, err := client.CoreV1().ConfigMaps(o.namespace).Get(ctx, o.name, metav1.GetOptions{})
	if err != nil {
		return clusterConfig{}, fmt.Errorf("--config-from-cluster: read ConfigMap %s/%s: %w (see --config-namespace and --config-map)", o.namespace, o.name, err)
	}
	data, ok := cm.Data[configMapKey]
	if !ok {
		return clusterConfig{}, fmt.Errorf("--config-from-cluster: ConfigMap %s/%s has no %s", o.namespace, o.name, configMapKey)
	}
	cfg, err := config.Parse([]byte(data), version.Version)
	if err != nil {
		return clusterConfig{}, fmt.Errorf("--config-from-cluster: ConfigMap %s/%s: %w", o.namespace, o.name, err)
	}
	out := clusterConfig{cfg: cfg, oldestKubeletMinor: config.UnknownKubelet}
	if !readVersions {
		return out, nil
	}
	info, err := client.Discovery().ServerVersion()
	if err != nil {
		return clusterConfig{}, fmt.Errorf("--config-from-cluster: the API server's version: %w (or give --kube-version)", err)
	}
	if out.serverMinor, err = config.ParseKubeMinor(info.GitVersion); err != nil {
		// As the webhook does: a development build counts as current.
		out.serverMinor = config.NativeSidecarSkewFreeMinor
	}
	if !config.NeedsKubeletVersion(cfg.NativeSidecar, out.serverMinor) {
		return out, nil
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return clusterConfig{}, fmt.Errorf("--config-from-cluster: list nodes for the oldest kubelet's version: %w (or give --kube-version)", err)
	}
	out.oldestKubeletMinor = config.OldestKubeletMinor(nodes.Items)
	return out, nil
}
