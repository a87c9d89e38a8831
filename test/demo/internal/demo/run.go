package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// demoNamespace is the namespace the demo opts in.
const demoNamespace = "shop"

// Run tells the story until ctx ends (Ctrl-C) or opts.Duration has passed,
// then stops everything it started. opts.Mode must be ModeNode or
// ModeProcess by now (see ResolveMode).
func Run(ctx context.Context, opts *Options) (err error) {
	if opts.Mode == ModeNode {
		return runOnNode(ctx, opts)
	}
	return runAsProcesses(ctx, opts)
}

// runAsProcesses is the demo where the node cannot run: the webhook and the
// pod's containers as local processes.
func runAsProcesses(ctx context.Context, opts *Options) (err error) {
	out := &story{w: opts.Out}
	defer func() { err = errors.Join(err, out.err) }()
	workDir, cleanup, err := prepareWorkDir(opts, out)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cleanup()) }()
	var stops []func() error // run in reverse at the end
	defer func() { err = errors.Join(err, stopAll(out, stops)) }()

	out.say("gopherscope demo: the whole product on an embedded local control plane (Ctrl-C to stop)")
	out.say("Mode: process (the webhook and the pod's containers run as local processes, not on a real node)")
	if opts.NodeUnavailable != nil {
		out.say("      the real node cannot run here: %v", opts.NodeUnavailable)
	}
	out.step(1, "Starting kube-apiserver and etcd (built from their Go modules into bin/)")
	cluster, err := localcluster.Start(ctx, localcluster.Options{RepoRoot: opts.RepoRoot, WorkDir: workDir, Logf: out.detail})
	if err != nil {
		return err
	}
	stops = append(stops, cluster.Stop)

	out.step(2, "Installing the Helm chart: helm install gopherscope charts/gopherscope --namespace gopherscope")
	out.detail("(tls.mode=helm; webhook.url points the webhook configuration at a local process)")
	release, err := cluster.InstallChart(ctx, localcluster.ReleaseOptions{})
	if err != nil {
		return err
	}
	out.detail("release %s installed: webhook configuration, config map, TLS secrets, RBAC", release.Name)

	out.step(3, "Starting the webhook (bin/webhook) with the chart's certificate and config")
	webhook, err := cluster.StartWebhook(ctx, release, opts.binary("webhook"))
	if err != nil {
		return err
	}
	stops = append(stops, webhook.Stop)

	if err := optIn(ctx, cluster.Client(), out, 4); err != nil {
		return err
	}

	submitted := demoPod(demoNamespace)
	out.step(5, "Creating a Go pod: %s/%s (the demo app; no sidecar in its spec)", submitted.Namespace, submitted.Name)
	stored, warnings, err := createPod(ctx, cluster, submitted)
	if err != nil {
		return err
	}
	out.say("\n    What the API server stored, compared with what was submitted (+ added, ~ changed):")
	for _, line := range describeChanges(submitted, stored) {
		out.say("    %s", line)
	}
	for _, w := range warnings {
		out.say("    warning from the webhook: %s", w)
	}

	pod, err := runPodProcesses(opts, out, stored, workDir)
	if err != nil {
		return err
	}
	stops = append(stops, pod.Stop)
	sidecarPort := sidecarPortOf(stored)
	if err := pod.Processes[config.SidecarContainerName].WaitReady(ctx, pod.URL(sidecarPort, sidecarconf.SidecarReadyzPath), 30*time.Second); err != nil {
		return err
	}

	page := pod.URL(sidecarPort, "/")
	out.say(`
Where to look:
  the sidecar's page    %s
  its metrics           %s
  the API server        KUBECONFIG=%s kubectl get pod -n %s %s -o yaml  (any kubectl)
  the webhook's log     %s
  the sidecar's log     %s`, page, pod.URL(sidecarPort, sidecarconf.SidecarMetricsPath), cluster.Kubeconfig(), stored.Namespace, stored.Name,
		webhook.LogPath(), pod.Processes[config.SidecarContainerName].LogPath())

	runCtx, cancel := runFor(ctx, opts, out)
	defer cancel()
	return watch(runCtx, out, pod.URL(sidecarPort, sidecarconf.SidecarMetricsPath), func(path string) string { return pod.URL(appPort, path) }, opts.RowEvery)
}

// stopAll runs stops in reverse, saying so.
func stopAll(out *story, stops []func() error) error {
	out.say("\nStopping: the pod's processes, the webhook, kube-apiserver and etcd.")
	start := time.Now()
	var errs []error
	for _, stop := range slices.Backward(stops) {
		errs = append(errs, stop())
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	out.say("Stopped everything in %s.", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// runPodProcesses runs the stored pod's containers as local processes, with
// exactly the args and env of its spec, and shows them.
func runPodProcesses(opts *Options, out *story, stored *corev1.Pod, workDir string) (*localcluster.Pod, error) {
	out.step(6, "Running the pod's containers as local processes, with exactly the args and env of the stored spec")
	out.detail("(the pod's ports become ports on 127.0.0.1: the same ones when free, else free ones)")
	pod, err := localcluster.RunPod(localcluster.PodOptions{
		Pod:            stored,
		Binaries:       map[string]string{"app": opts.binary("demo-app"), config.SidecarContainerName: opts.binary("sidecar")},
		LogDir:         workDir,
		PreferPodPorts: true,
	})
	if err != nil {
		return nil, err
	}
	for _, c := range []struct{ name, binary string }{{"app", "demo-app"}, {config.SidecarContainerName, "sidecar"}} {
		out.detail("%-20s %s %s", c.name, c.binary, strings.Join(pod.Args[c.name], " "))
		if env := pod.Env[c.name]; len(env) > 0 {
			out.detail("%-20s env %s", "", strings.Join(env, " "))
		}
	}
	return pod, nil
}

// optIn creates the demo's namespace with the injection label, as step n.
func optIn(ctx context.Context, client kubernetes.Interface, out *story, n int) error {
	out.step(n, "Opting a namespace in: kubectl create namespace %s && kubectl label namespace %s %s=%s",
		demoNamespace, demoNamespace, config.KeyInject, config.InjectEnabled)
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: demoNamespace, Labels: map[string]string{config.KeyInject: config.InjectEnabled},
	}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create namespace %s: %w", demoNamespace, err)
	}
	return nil
}

// runFor bounds ctx by opts.Duration, saying so.
func runFor(ctx context.Context, opts *Options, out *story) (context.Context, context.CancelFunc) {
	if opts.Duration <= 0 {
		return ctx, func() {}
	}
	out.say("\nRunning for %s (DEMO_DURATION), then stopping.", opts.Duration)
	return context.WithTimeout(ctx, opts.Duration)
}

// createPod creates the pod, collecting the API response's warnings.
func createPod(ctx context.Context, cluster *localcluster.Cluster, pod *corev1.Pod) (*corev1.Pod, []string, error) {
	warnings := &warningCollector{}
	cfg := cluster.Config()
	cfg.WarningHandler = warnings
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	stored, err := client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return stored, warnings.list, nil
}

// warningCollector keeps the warnings of API responses.
type warningCollector struct{ list []string }

// HandleWarningHeader implements rest.WarningHandler.
func (w *warningCollector) HandleWarningHeader(_ int, _ string, text string) {
	w.list = append(w.list, text)
}

// sidecarPortOf is the pod port of the sidecar's gs-metrics port.
func sidecarPortOf(pod *corev1.Pod) int {
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		for _, p := range c.Ports {
			if p.Name == config.SidecarPortName {
				return int(p.ContainerPort)
			}
		}
	}
	return int(config.DefaultSidecarPort)
}

// prepareWorkDir returns the work dir and what removes it at the end.
func prepareWorkDir(opts *Options, out *story) (string, func() error, error) {
	if opts.WorkDir != "" {
		if err := os.MkdirAll(opts.WorkDir, 0o750); err != nil {
			return "", nil, fmt.Errorf("create work dir: %w", err)
		}
		return opts.WorkDir, func() error { return nil }, nil
	}
	dir, err := os.MkdirTemp("", "gopherscope-demo-")
	if err != nil {
		return "", nil, fmt.Errorf("create work dir: %w", err)
	}
	return dir, func() error {
		if opts.Keep {
			out.say("Kept %s (kubeconfig, certificates, logs).", dir)
			return nil
		}
		return os.RemoveAll(dir)
	}, nil
}
