package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// demoImageVersion tags the images the demo builds and imports.
const demoImageVersion = "v0.0.0-demo"

// runOnNode is the demo on a real node: the chart's webhook pod, a
// Deployment of the demo app, its injected pod run by the kubelet, and the
// sidecar's metrics read at the pod's address.
func runOnNode(ctx context.Context, opts *Options) (err error) {
	out := &story{w: opts.Out}
	defer func() { err = errors.Join(err, out.err) }()
	workDir, cleanup, err := prepareWorkDir(opts, out)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cleanup()) }()

	out.say("gopherscope demo: the whole product on an embedded local cluster (Ctrl-C to stop)")
	out.say("Mode: node (a real kubelet, containerd and runc in the network namespace %s; pods at %s)", localcluster.NetnsName, localcluster.PodCIDR)
	images, cluster, err := startDemoNode(ctx, opts, out, workDir)
	if err != nil {
		return err
	}
	defer func() {
		out.say("\nStopping the node: its pods, the kubelet, containerd and the control plane.")
		start := time.Now()
		if stopErr := cluster.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
			return
		}
		out.say("Stopped everything in %s; the node's logs stay in %s/logs until the next run.", time.Since(start).Round(100*time.Millisecond), cluster.RunDir())
	}()

	if err := installOnNode(ctx, out, cluster, images); err != nil {
		return err
	}

	client := cluster.Client()
	if err := optIn(ctx, client, out, 3); err != nil {
		return err
	}

	deployment := demoDeployment(demoNamespace, images.Ref("demo-app"))
	out.step(4, "Creating a Deployment of a Go service: %s/%s (the demo app; no sidecar in its spec)", deployment.Namespace, deployment.Name)
	if _, err := client.AppsV1().Deployments(deployment.Namespace).Create(ctx, deployment, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}

	out.step(5, "Waiting for its pod: ReplicaSet -> API server -> webhook pod -> scheduler -> kubelet")
	pod, err := waitRunning(ctx, client, deployment)
	if err != nil {
		return errors.Join(err, errors.New(cluster.LogTail("kubelet", 15)))
	}
	submitted := &corev1.Pod{ObjectMeta: deployment.Spec.Template.ObjectMeta, Spec: deployment.Spec.Template.Spec}
	out.say("\n    Pod %s is Running, %d/%d containers ready. What the API server stored, compared with the template (+ added, ~ changed):",
		pod.Name, readyCount(pod), len(pod.Spec.Containers)+len(pod.Spec.InitContainers))
	for _, line := range describeChanges(submitted, pod) {
		out.say("    %s", line)
	}

	sidecarPort := sidecarPortOf(pod)
	podURL := func(port int, path string) string {
		return "http://" + net.JoinHostPort(pod.Status.PodIP, strconv.Itoa(port)) + path
	}
	runCtx, cancel := runFor(ctx, opts, out)
	defer cancel()
	page, err := forwardPage(runCtx, pod.Status.PodIP, sidecarPort)
	if err != nil {
		return err
	}
	out.say(`
Where to look:
  the sidecar's page    http://%s/  (forwarded to the pod's %s)
  the cluster           sudo nsenter --net=/var/run/netns/%s bin/kubectl --kubeconfig %s get pods -n %s
  the node's logs       %s/logs`, page, podURL(sidecarPort, "/"), localcluster.NetnsName, cluster.Kubeconfig(), demoNamespace, cluster.RunDir())

	out.step(6, "Reading the sidecar at the pod's address while the demo turns the app's knobs")
	return watch(runCtx, out, podURL(sidecarPort, sidecarconf.SidecarMetricsPath), func(path string) string { return podURL(appPort, path) }, opts.RowEvery)
}

// startDemoNode builds the images and starts a single-node cluster that
// holds them, as step 1.
func startDemoNode(ctx context.Context, opts *Options, out *story, workDir string) (localcluster.NodeImages, *localcluster.NodeCluster, error) {
	out.step(1, "Building the images (make images) and starting a single-node cluster")
	out.detail("(etcd, kube-apiserver, controller-manager, scheduler, kubelet and kube-proxy from bin/; containerd and runc from the OS)")
	images, err := localcluster.BuildNodeImages(ctx, opts.RepoRoot, workDir, demoImageVersion)
	if err != nil {
		return images, nil, err
	}
	cluster, err := localcluster.StartNode(ctx, localcluster.NodeOptions{
		RepoRoot: opts.RepoRoot, Images: images.Archives, PauseImage: images.Ref("pause"), Logf: out.detail,
	})
	return images, cluster, err
}

// installOnNode installs the chart unchanged but for the images' names, as
// step 2, and waits for the webhook to be ready.
func installOnNode(ctx context.Context, out *story, cluster *localcluster.NodeCluster, images localcluster.NodeImages) error {
	out.step(2, "Installing the Helm chart: helm install gopherscope charts/gopherscope --namespace gopherscope --create-namespace --wait")
	out.detail("--set image.tag=%[1]s --set diagnostics.image.tag=%[1]s --set injection.sidecar.image.tag=%[1]s --set tls.mode=helm --set replicaCount=1 --set diagnostics.replicaCount=1", images.Version)
	_, err := cluster.InstallChart(ctx, localcluster.ReleaseOptions{Values: map[string]any{
		"image":        map[string]any{"tag": images.Version},
		"diagnostics":  map[string]any{"image": map[string]any{"tag": images.Version}, "replicaCount": 1},
		"injection":    map[string]any{"sidecar": map[string]any{"image": map[string]any{"tag": images.Version}}},
		"tls":          map[string]any{"mode": "helm"},
		"replicaCount": 1,
	}})
	return err
}

// forwardPage forwards a port of the machine's loopback to the sidecar's
// port at podIP, until ctx ends, and returns the loopback address: the pod's
// address lives in the node's network, and a browser on the machine reaches
// the page there, as it would through kubectl port-forward. The loopback
// port is the sidecar's own when it is free.
func forwardPage(ctx context.Context, podIP string, sidecarPort int) (net.Addr, error) {
	page, err := localcluster.ListenOnHost(net.JoinHostPort("127.0.0.1", strconv.Itoa(sidecarPort)))
	if err != nil {
		page, err = localcluster.ListenOnHost("127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("forward the sidecar's page: %w", err)
	}
	go localcluster.Forward(ctx, page, net.JoinHostPort(podIP, strconv.Itoa(sidecarPort)))
	return page.Addr(), nil
}

// demoDeployment is demoPod's spec as a one-replica Deployment, with the
// image imported into the node.
func demoDeployment(namespace, image string) *appsv1.Deployment {
	pod := demoPod(namespace)
	pod.Spec.Containers[0].Image = image
	pod.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
	pod.Spec.TerminationGracePeriodSeconds = new(int64(1))
	one := int32(1)
	selector := map[string]string{"app.kubernetes.io/name": pod.Labels["app.kubernetes.io/name"]}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "checkout", Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: selector, Annotations: pod.Annotations},
				Spec:       pod.Spec,
			},
		},
	}
}

// waitRunning waits up to 2 minutes for the Deployment's pod to be Ready.
func waitRunning(ctx context.Context, client kubernetes.Interface, d *appsv1.Deployment) (*corev1.Pod, error) {
	var pod *corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(d.Spec.Selector)})
		if err != nil || len(pods.Items) != 1 {
			return false, nil //nolint:nilerr // not there yet
		}
		pod = &pods.Items[0]
		return pod.Status.Phase == corev1.PodRunning && readyCount(pod) == len(pod.Spec.Containers)+len(pod.Spec.InitContainers), nil
	})
	if err != nil {
		return nil, fmt.Errorf("the Deployment's pod is not ready after 2 minutes: %w", err)
	}
	return pod, nil
}

// readyCount is how many containers and native sidecars of pod are ready.
func readyCount(pod *corev1.Pod) int {
	statuses := slices.Concat(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses)
	return len(slices.DeleteFunc(statuses, func(s corev1.ContainerStatus) bool { return !s.Ready }))
}
