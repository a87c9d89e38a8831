package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// Issue 16's targets, and how the diagnostics API is measured.
const (
	diagRSSTarget   = 40 << 20
	heapP95Target   = 2 * time.Second
	cpuExtraTarget  = 1500 * time.Millisecond
	topTarget       = 2 * time.Second
	liveHeap        = "256MiB"
	restDuration    = 10 * time.Second
	benchImageTag   = "v0.0.0-bench"
	demoAppPort     = 8080
	demoDebugPort   = 6060
	diagNodeTimeout = 30 * time.Minute
)

// diagNode is the real node with the chart installed.
type diagNode struct {
	cluster *localcluster.NodeCluster
	client  kubernetes.Interface
	images  localcluster.NodeImages
	logf    func(string, ...any)
}

// runDiagnosticsNode is the diagnostics-node mode: it runs itself again
// inside the node's network namespace, where it starts the node, measures
// and writes the rows to opts.DiagNode.
func runDiagnosticsNode(ctx context.Context, opts *options) error {
	if !localcluster.InNodeNetwork() {
		code, err := localcluster.RunInNodeNetwork()
		if err == nil && code != 0 {
			err = fmt.Errorf("the measurements inside the node's network namespace exited %d", code)
		}
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, diagNodeTimeout)
	defer cancel()
	p := &printer{w: os.Stdout}
	logf := func(format string, args ...any) { p.printf("bench: "+format+"\n", args...) }
	rows, err := measureDiagnostics(ctx, opts, logf)
	if err != nil {
		return err
	}
	return writeRows(opts.DiagNode, rows)
}

// measureDiagnostics builds the images, starts the node, installs the chart
// as the e2e tests do and measures: the server's RSS at rest, heap and CPU
// profiles of one demo app, then `gopherscope top` over opts.TopPods pods.
func measureDiagnostics(ctx context.Context, opts *options, logf func(string, ...any)) (rows []row, err error) {
	start := time.Now()
	imagesDir := filepath.Join(opts.WorkDir, "images")
	images, err := localcluster.BuildNodeImages(ctx, opts.RepoRoot, imagesDir, benchImageTag)
	if err != nil {
		return nil, err
	}
	logf("diagnostics API: built %d images in %s", len(images.Archives), time.Since(start).Round(time.Second))
	cluster, err := localcluster.StartNode(ctx, localcluster.NodeOptions{
		RepoRoot: opts.RepoRoot, Images: images.Archives, PauseImage: images.Ref("pause"),
		Logf: func(format string, args ...any) { logf("node: "+format, args...) },
	})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, cluster.Stop(), os.RemoveAll(imagesDir)) }()
	if _, err := cluster.InstallChart(ctx, localcluster.ReleaseOptions{Values: map[string]any{
		"image":        map[string]any{"tag": images.Version},
		"diagnostics":  map[string]any{"image": map[string]any{"tag": images.Version}, "replicaCount": 1},
		"injection":    map[string]any{"sidecar": map[string]any{"image": map[string]any{"tag": images.Version}}},
		"replicaCount": 1,
	}}); err != nil {
		return nil, err
	}
	n := &diagNode{cluster: cluster, client: cluster.Client(), images: images, logf: logf}
	if err := n.waitAPIServiceAvailable(ctx); err != nil {
		return nil, err
	}
	server, err := n.serverPID(ctx)
	if err != nil {
		return nil, err
	}
	logf("diagnostics API: Available (server pid %d); %s without requests", server, restDuration)
	if err := sleep(ctx, restDuration); err != nil {
		return nil, err
	}
	rest, err := readRSS(server)
	if err != nil {
		return nil, err
	}
	rows = append(rows, row{group: diagGroup, figure: fmt.Sprintf("diagnostics server RSS at rest (chart installed, APIService Available, %s without requests)", restDuration),
		value: rest.String(), target: "≤ " + rig.MiB(diagRSSTarget), verdict: judge(rest.total <= diagRSSTarget)})

	profiles, err := n.measureProfiles(ctx, opts)
	if err != nil {
		return nil, err
	}
	rows = append(rows, profiles...)
	top, err := n.measureTop(ctx, opts)
	if err != nil {
		return nil, err
	}
	rows = append(rows, top...)
	after, err := readRSS(server)
	if err != nil {
		return nil, err
	}
	rows = append(rows, row{group: diagGroup, figure: "diagnostics server RSS after the runs above",
		value: after.String(), target: "—"})
	logf("diagnostics API: measured in %s", time.Since(start).Round(time.Second))
	return rows, nil
}

// apiServiceStatus is the part of an APIService the bench reads.
type apiServiceStatus struct {
	Status struct {
		Conditions []struct {
			Type, Status, Message string
		} `json:"conditions"`
	} `json:"status"`
}

// waitAPIServiceAvailable waits up to 2 minutes for the chart's APIService
// to be Available.
func (n *diagNode) waitAPIServiceAvailable(ctx context.Context) error {
	last := "not found"
	err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		body, err := n.client.Discovery().RESTClient().Get().AbsPath("/apis/apiregistration.k8s.io/v1/apiservices/" + api.APIService).DoRaw(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		var s apiServiceStatus
		if err := json.Unmarshal(body, &s); err != nil {
			return false, fmt.Errorf("decode APIService %s: %w", api.APIService, err)
		}
		for _, c := range s.Status.Conditions {
			if c.Type == "Available" {
				last = c.Status + ": " + c.Message
				return c.Status == "True", nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("APIService %s not Available after 2m (last: %s): %w", api.APIService, last, err)
	}
	return nil
}

// serverPID is the host PID of the diagnostics server's container.
func (n *diagNode) serverPID(ctx context.Context) (int, error) {
	pods, err := n.client.CoreV1().Pods(localcluster.DefaultNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=diagnostics"})
	if err != nil {
		return 0, fmt.Errorf("list the diagnostics server's pods: %w", err)
	}
	if len(pods.Items) != 1 || len(pods.Items[0].Status.ContainerStatuses) != 1 {
		return 0, fmt.Errorf("want one diagnostics server pod with one container, found %d pods (chart value diagnostics.replicaCount is 1)", len(pods.Items))
	}
	return localcluster.ContainerPID(pods.Items[0].Status.ContainerStatuses[0])
}

// demoDeployment is the demo app as a Go service's Deployment (restricted
// Pod Security compliant, small requests), injected in an opted-in
// namespace.
func (n *diagNode) demoDeployment(ns, name string, replicas int32) *appsv1.Deployment {
	no, yes := false, true
	labels := map[string]string{"app": name}
	app := corev1.Container{
		Name: "app", Image: n.images.Ref("demo-app"), ImagePullPolicy: corev1.PullIfNotPresent,
		Args:  []string{"--address=:" + strconv.Itoa(demoAppPort), "--debug-address=:" + strconv.Itoa(demoDebugPort)},
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: demoAppPort}},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
			PeriodSeconds: 2,
		},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("1m"), corev1.ResourceMemory: resource.MustParse("16Mi"),
		}},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: &no, RunAsNonRoot: &yes,
			Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{app}, TerminationGracePeriodSeconds: new(int64)},
			},
		},
	}
}

// runDemo creates an opted-in namespace and a Deployment of replicas demo
// apps in it, and returns their pods once all are Ready (within timeout).
func (n *diagNode) runDemo(ctx context.Context, name string, replicas int32, timeout time.Duration) ([]corev1.Pod, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench-" + name, Labels: map[string]string{config.KeyInject: config.InjectEnabled}}}
	if _, err := n.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create namespace %s: %w", ns.Name, err)
	}
	d := n.demoDeployment(ns.Name, name, replicas)
	if _, err := n.client.AppsV1().Deployments(ns.Name).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("create deployment %s/%s: %w", ns.Name, name, err)
	}
	start, lastLog := time.Now(), time.Now()
	var ready []corev1.Pod
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := n.client.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false, nil //nolint:nilerr // the API server is busy; poll again
		}
		ready = slices.DeleteFunc(pods.Items, func(p corev1.Pod) bool { return !localcluster.PodReady(&p) })
		if time.Since(lastLog) > 20*time.Second {
			n.logf("diagnostics API: %d of %d pods of %s Ready after %s", len(ready), replicas, name, time.Since(start).Round(time.Second))
			lastLog = time.Now()
		}
		return len(ready) == int(replicas), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%d of %d pods of %s/%s Ready after %s: %w\n%s", len(ready), replicas, ns.Name, name, timeout, err, n.cluster.LogTail("kubelet", 15))
	}
	n.logf("diagnostics API: %d pods of %s Ready in %s", replicas, name, time.Since(start).Round(time.Second))
	return ready, nil
}

// sleep waits d, or less if ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
