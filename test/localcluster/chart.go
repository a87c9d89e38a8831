package localcluster

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Defaults of ReleaseOptions.
const (
	DefaultRelease   = "gopherscope"
	DefaultNamespace = "gopherscope"
)

// ReleaseOptions say how to install the chart.
type ReleaseOptions struct {
	// Name is the release name (default DefaultRelease).
	Name string
	// Namespace is the release namespace (default DefaultNamespace).
	Namespace string
	// Values are merged over the values that point the webhook
	// configuration at a local process (webhook.url on 127.0.0.1, tls.mode
	// helm with 127.0.0.1 in the certificate) and leave the diagnostics
	// server out, e.g. {"webhook": {"failurePolicy": "Fail"}}.
	Values map[string]any
}

// Release is the chart installed into the local API server, with its
// webhook configuration calling https://127.0.0.1:WebhookPort/inject.
type Release struct {
	// Name and Namespace identify the release.
	Name, Namespace string
	// WebhookPort is where the webhook process must listen.
	WebhookPort int

	cluster helmTarget
}

// helmTarget is what installing and reading a release needs of a cluster.
type helmTarget struct {
	repoRoot, workDir, kubeconfig string
	client                        kubernetes.Interface
	logf                          func(format string, args ...any)
}

func (c *Cluster) helmTarget() helmTarget {
	return helmTarget{repoRoot: c.opts.RepoRoot, workDir: c.opts.WorkDir, kubeconfig: c.kubeconfig, client: c.client, logf: c.opts.Logf}
}

// InstallChart installs charts/gopherscope with bin/helm (no --wait: no
// Deployment runs without a kubelet; the webhook runs as a local process,
// see StartWebhook).
func (c *Cluster) InstallChart(ctx context.Context, opts ReleaseOptions) (*Release, error) {
	if opts.Name == "" {
		opts.Name = DefaultRelease
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	values := map[string]any{
		"webhook": map[string]any{"url": fmt.Sprintf("https://127.0.0.1:%d/inject", port)},
		"tls":     map[string]any{"mode": "helm", "ipAddresses": []any{"127.0.0.1"}},
		// No kubelet runs its pod: an APIService without a backend would fail
		// discovery, and with it namespace deletion.
		"diagnostics": map[string]any{"enabled": false},
	}
	mergeValues(values, opts.Values)
	r := &Release{Name: opts.Name, Namespace: opts.Namespace, WebhookPort: port, cluster: c.helmTarget()}
	start := time.Now()
	if err := r.install(ctx, values, "--wait=false"); err != nil {
		return nil, err
	}
	c.opts.Logf("installed chart %s into namespace %s in %s (webhook url https://127.0.0.1:%d/inject)",
		opts.Name, opts.Namespace, time.Since(start).Round(100*time.Millisecond), port)
	return r, nil
}

// install runs `helm install` of charts/gopherscope with values.
func (r *Release) install(ctx context.Context, values map[string]any, args ...string) error {
	valuesYAML, err := yaml.Marshal(values)
	if err != nil {
		return fmt.Errorf("encode chart values: %w", err)
	}
	if err := os.MkdirAll(r.cluster.workDir, 0o750); err != nil {
		return fmt.Errorf("create work dir: %w", err)
	}
	valuesFile := filepath.Join(r.cluster.workDir, "values-"+r.Name+".yaml")
	if err := os.WriteFile(valuesFile, valuesYAML, 0o600); err != nil {
		return fmt.Errorf("write chart values: %w", err)
	}
	_, err = r.helm(ctx, append([]string{"install", r.Name, filepath.Join(r.cluster.repoRoot, "charts", "gopherscope"),
		"--namespace", r.Namespace, "--create-namespace", "--values", valuesFile}, args...)...)
	return err
}

// Upgrade runs `helm upgrade --reuse-values --set key=value …` on the release.
func (r *Release) Upgrade(ctx context.Context, set map[string]string) error {
	args := []string{"upgrade", r.Name, filepath.Join(r.cluster.repoRoot, "charts", "gopherscope"),
		"--namespace", r.Namespace, "--reuse-values", "--wait=false"}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		args = append(args, "--set", k+"="+set[k])
	}
	if _, err := r.helm(ctx, args...); err != nil {
		return err
	}
	r.cluster.logf("upgraded release %s with %v", r.Name, set)
	return nil
}

// helm runs bin/helm against the cluster, with helm's own cache and config
// under the work dir, and returns its stdout.
func (r *Release) helm(ctx context.Context, args ...string) ([]byte, error) {
	c := r.cluster
	helmHome := filepath.Join(c.workDir, "helm")
	args = append(args, "--kubeconfig", c.kubeconfig)
	cmd := exec.CommandContext(ctx, filepath.Join(c.repoRoot, "bin", "helm"), args...) //nolint:gosec // the repository's own bin/helm
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"),
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm %s: %w: %s", strings.Join(args[:2], " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// ServingTLS reads the serving certificate, its key and the CA from the
// chart's kubernetes.io/tls Secret (the one carrying ca.crt).
func (r *Release) ServingTLS(ctx context.Context) (cert, key, ca []byte, err error) {
	secrets, err := r.cluster.client.CoreV1().Secrets(r.Namespace).List(ctx, r.listOptions())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list secrets of release %s: %w", r.Name, err)
	}
	for _, s := range secrets.Items {
		if s.Type == corev1.SecretTypeTLS && len(s.Data["ca.crt"]) > 0 {
			return s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey], s.Data["ca.crt"], nil
		}
	}
	return nil, nil, nil, fmt.Errorf("release %s has no serving certificate Secret (type %s with ca.crt) in %s", r.Name, corev1.SecretTypeTLS, r.Namespace)
}

// InjectionConfig reads config.yaml from the chart's ConfigMap.
func (r *Release) InjectionConfig(ctx context.Context) ([]byte, error) {
	cms, err := r.cluster.client.CoreV1().ConfigMaps(r.Namespace).List(ctx, r.listOptions())
	if err != nil {
		return nil, fmt.Errorf("list config maps of release %s: %w", r.Name, err)
	}
	for _, cm := range cms.Items {
		if data, ok := cm.Data["config.yaml"]; ok {
			return []byte(data), nil
		}
	}
	return nil, fmt.Errorf("release %s has no ConfigMap with config.yaml in %s", r.Name, r.Namespace)
}

// WebhookConfiguration reads the release's MutatingWebhookConfiguration.
func (r *Release) WebhookConfiguration(ctx context.Context) (*admissionregistrationv1.MutatingWebhookConfiguration, error) {
	list, err := r.cluster.client.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, r.listOptions())
	if err != nil {
		return nil, fmt.Errorf("list webhook configurations of release %s: %w", r.Name, err)
	}
	if len(list.Items) != 1 {
		return nil, fmt.Errorf("release %s has %d MutatingWebhookConfigurations, want 1", r.Name, len(list.Items))
	}
	return &list.Items[0], nil
}

// SetCABundle replaces the caBundle of every webhook of the release's
// configuration, as cert-manager's cainjector does.
func (r *Release) SetCABundle(ctx context.Context, bundle []byte) error {
	mwc, err := r.WebhookConfiguration(ctx)
	if err != nil {
		return err
	}
	for i := range mwc.Webhooks {
		mwc.Webhooks[i].ClientConfig.CABundle = bundle
	}
	if _, err := r.cluster.client.AdmissionregistrationV1().MutatingWebhookConfigurations().Update(ctx, mwc, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update caBundle of %s: %w", mwc.Name, err)
	}
	return nil
}

func (r *Release) listOptions() metav1.ListOptions {
	return metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + r.Name}
}

// mergeValues merges src into dst: maps recursively, anything else replaced.
func mergeValues(dst, src map[string]any) {
	for k, v := range src {
		sub, isMap := v.(map[string]any)
		have, haveMap := dst[k].(map[string]any)
		if isMap && haveMap {
			mergeValues(have, sub)
			continue
		}
		dst[k] = v
	}
}

// Uninstall runs `helm uninstall --wait` on the release: its webhook
// configurations and RBAC are gone when it returns; its namespace stays.
func (r *Release) Uninstall(ctx context.Context) error {
	if _, err := r.helm(ctx, "uninstall", r.Name, "--namespace", r.Namespace, "--wait", "--timeout=2m"); err != nil {
		return err
	}
	r.cluster.logf("uninstalled release %s from namespace %s", r.Name, r.Namespace)
	return nil
}
