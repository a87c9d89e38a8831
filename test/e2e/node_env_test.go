//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// The real node: one per run, started by the first test that needs it and
// shared by all (each in namespaces of its own), with the chart installed
// unchanged as a user would install it.
var node struct {
	once    sync.Once
	cluster *localcluster.NodeCluster
	release *localcluster.Release
	images  localcluster.NodeImages
	err     error
	// unavailable says why this machine cannot run the node (set by TestMain).
	unavailable error
}

// nodeEnv is the shared node with the chart installed.
type nodeEnv struct {
	cluster *localcluster.NodeCluster
	client  kubernetes.Interface
	release *localcluster.Release
	images  localcluster.NodeImages
}

// realNode returns the shared node, starting it on first use. A machine that
// cannot run it fails the test with the reason: nothing is skipped silently.
func realNode(t *testing.T) *nodeEnv {
	t.Helper()
	if node.unavailable != nil {
		t.Fatalf("this test needs the real node, which cannot run here: %v", node.unavailable)
	}
	node.once.Do(func() { node.err = startNode() })
	if node.err != nil {
		t.Fatalf("start the real node: %v", node.err)
	}
	return &nodeEnv{cluster: node.cluster, client: node.cluster.Client(), release: node.release, images: node.images}
}

// startNode builds the images, starts the node and installs the chart.
func startNode() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Printf("node: "+format+"\n", args...) }
	start := time.Now()
	dist, err := os.MkdirTemp("", "gopherscope-e2e-images-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dist) }() // imported into containerd by then
	if node.images, err = localcluster.BuildNodeImages(ctx, repoRoot, dist, testVersion); err != nil {
		return err
	}
	logf("built %d images in %s", len(node.images.Archives), time.Since(start).Round(100*time.Millisecond))
	if node.cluster, err = localcluster.StartNode(ctx, localcluster.NodeOptions{
		RepoRoot: repoRoot, Images: node.images.Archives, PauseImage: node.images.Ref("pause"), Logf: logf,
	}); err != nil {
		return err
	}
	node.release, err = node.cluster.InstallChart(ctx, localcluster.ReleaseOptions{Values: chartValuesFor(node.images)})
	return err
}

// chartValuesFor are the only values a user of locally built images sets:
// the images (the webhook's, the diagnostics server's and the sidecar's)
// and one replica. The TLS mode is the chart's default
// (self-managed), which needs no cert-manager.
func chartValuesFor(im localcluster.NodeImages) map[string]any {
	return map[string]any{
		"image":        map[string]any{"tag": im.Version},
		"diagnostics":  map[string]any{"image": map[string]any{"tag": im.Version}, "replicaCount": 1},
		"injection":    map[string]any{"sidecar": map[string]any{"image": map[string]any{"tag": im.Version}}},
		"replicaCount": 1,
	}
}

// stopNode stops the node if a test started it.
func stopNode() error {
	if node.cluster == nil {
		return nil
	}
	return node.cluster.Stop()
}

// resetNode stops the shared node, if one runs, so that the next test that
// needs it starts a new one (for a test that runs a node of its own).
func resetNode() error {
	err := stopNode()
	node.once, node.cluster, node.release, node.err = sync.Once{}, nil, nil, nil
	return err
}

// namespace creates a namespace with the given labels, deleted (with all it
// holds) when t ends.
func (e *nodeEnv) namespace(t *testing.T, prefix string, labels map[string]string) string {
	t.Helper()
	ns, err := e.client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-", Labels: labels},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s: %v", prefix, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		zero := int64(0)
		if err := e.client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return ns.Name
}

// Ports of the demo app in its image: the app server (knobs, /self) and the
// debug server (expvar and pprof, the sidecar's default target).
const (
	demoAppPort   = 8080
	demoDebugPort = 6060
	sidecarPort   = 9184
)

// demoContainer is the demo app as a Go service's container: restricted
// Pod Security compliant, its image from the node's containerd.
func (e *nodeEnv) demoContainer(args ...string) corev1.Container {
	no, yes := false, true
	return corev1.Container{
		Name:            "app",
		Image:           e.images.Ref("demo-app"),
		ImagePullPolicy: corev1.PullIfNotPresent,
		Args:            append([]string{"--address=:" + strconv.Itoa(demoAppPort), "--debug-address=:" + strconv.Itoa(demoDebugPort)}, args...),
		Ports:           []corev1.ContainerPort{{Name: "http", ContainerPort: demoAppPort}},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
			PeriodSeconds: 1,
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: &no, RunAsNonRoot: &yes,
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
}

// demoDeployment is a one-replica Deployment of the demo app sampled every second.
func (e *nodeEnv) demoDeployment(ns, name string, args ...string) *appsv1.Deployment {
	one := int32(1)
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{config.AnnotationInterval: "1s"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{e.demoContainer(args...)}, TerminationGracePeriodSeconds: new(int64)},
			},
		},
	}
}

// runDeployment creates d and returns its pod once every container is Ready.
func (e *nodeEnv) runDeployment(t *testing.T, d *appsv1.Deployment) *corev1.Pod {
	t.Helper()
	if _, err := e.client.AppsV1().Deployments(d.Namespace).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s/%s: %v", d.Namespace, d.Name, err)
	}
	return e.waitPod(t, d.Namespace, "app="+d.Name, "Ready", localcluster.PodReady)
}

// waitPod waits up to 2 minutes for the one pod matching selector to satisfy ok.
func (e *nodeEnv) waitPod(t *testing.T, ns, selector, what string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := e.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil || len(pods.Items) != 1 {
			return false, nil //nolint:nilerr // not there yet
		}
		last = &pods.Items[0]
		return ok(last), nil
	})
	if err != nil {
		t.Fatalf("pod %s in %s not %s after 2m: %v\nlast seen: %s\n%s", selector, ns, what, err, describePod(last), e.cluster.LogTail("kubelet", 15))
	}
	return last
}

// describePod is a one-line summary of a pod's state for failure messages.
func describePod(pod *corev1.Pod) string {
	if pod == nil {
		return "no pod"
	}
	var parts []string
	for _, s := range slices.Concat(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses) {
		state := "waiting"
		switch {
		case s.State.Running != nil:
			state = "running"
		case s.State.Terminated != nil:
			state = fmt.Sprintf("terminated(%s, exit %d)", s.State.Terminated.Reason, s.State.Terminated.ExitCode)
		case s.State.Waiting != nil:
			state = fmt.Sprintf("waiting(%s: %s)", s.State.Waiting.Reason, s.State.Waiting.Message)
		}
		parts = append(parts, fmt.Sprintf("%s=%s ready=%t restarts=%d", s.Name, state, s.Ready, s.RestartCount))
	}
	return fmt.Sprintf("%s/%s phase=%s %s", pod.Namespace, pod.Name, pod.Status.Phase, strings.Join(parts, "; "))
}

// statusOf returns the status of the container or native sidecar called name.
func statusOf(pod *corev1.Pod, name string) corev1.ContainerStatus {
	for _, s := range slices.Concat(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses) {
		if s.Name == name {
			return s
		}
	}
	return corev1.ContainerStatus{}
}

// containerCgroup is localcluster.ContainerCgroup, failing the test.
func containerCgroup(t *testing.T, status corev1.ContainerStatus) string {
	t.Helper()
	dir, err := localcluster.ContainerCgroup(status)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// containerPID is localcluster.ContainerPID, failing the test.
func containerPID(t *testing.T, status corev1.ContainerStatus) int {
	t.Helper()
	pid, err := localcluster.ContainerPID(status)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// memoryLimit is a container's cgroup memory limit in bytes, read from the node.
func memoryLimit(t *testing.T, status corev1.ContainerStatus) int64 {
	t.Helper()
	dir := containerCgroup(t, status)
	for _, file := range []string{"memory.limit_in_bytes", "memory.max"} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			t.Fatalf("%s of %s: %v", file, status.Name, err)
		}
		return v
	}
	t.Fatalf("no memory limit file in %s", dir)
	return 0
}
