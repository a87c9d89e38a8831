package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultNodeRunDir holds all of a node's state: one node runs at a time (the
// kubelet uses fixed host paths), so a start can find and clear what a killed
// run left here.
const DefaultNodeRunDir = "/tmp/gopherscope-node"

// NodeOptions say how to start a node cluster.
type NodeOptions struct {
	// RepoRoot is the repository root: the cluster's binaries are in its bin/.
	RepoRoot string
	// RunDir holds all state (default DefaultNodeRunDir); it is emptied first.
	RunDir string
	// Images are image archives (docker save format) to import into the
	// node's containerd before the kubelet starts.
	Images []string
	// PauseImage is the sandbox image, one of Images.
	PauseImage string
	// Logf reports progress; nil discards it.
	Logf func(format string, args ...any)
}

// NodeCluster is a single-node cluster: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, containerd, the kubelet and
// kube-proxy as child processes, inside the node's network namespace.
type NodeCluster struct {
	opts   NodeOptions
	pki    *nodePKI
	config *rest.Config
	client kubernetes.Interface
	procs  []*Process // in start order; stopped in reverse
	lock   *os.File
}

// StartNode starts a node cluster. It must run inside the node's network
// namespace (RunInNodeNetwork) and clears what a killed run left first.
func StartNode(ctx context.Context, opts NodeOptions) (_ *NodeCluster, err error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.RunDir == "" {
		opts.RunDir = DefaultNodeRunDir
	}
	if !InNodeNetwork() {
		return nil, errors.New("the node must start inside its network namespace (localcluster.RunInNodeNetwork)")
	}
	if err := NodeSupported(); err != nil {
		return nil, err
	}
	bin := filepath.Join(opts.RepoRoot, "bin")
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("node binary %s: %w (run `make controlplane`)", name, err)
		}
	}
	n := &NodeCluster{opts: opts}
	if err := n.prepareRunDir(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, n.Stop())
		}
	}()
	start := time.Now()
	if n.pki, err = writeNodePKI(n.path("pki")); err != nil {
		return nil, err
	}
	if err := n.startControlPlane(ctx); err != nil {
		return nil, err
	}
	opts.Logf("kube-apiserver ready at %s in %s", apiServerURL, since(start))
	if err := n.startContainerd(ctx); err != nil {
		return nil, err
	}
	if err := n.startNodeAgents(); err != nil {
		return nil, err
	}
	if err := n.waitNodeReady(ctx); err != nil {
		return nil, err
	}
	opts.Logf("node %s Ready in %s (logs under %s)", NodeName, since(start), n.path("logs"))
	return n, nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }

// prepareRunDir takes the run directory's lock, clears what a killed run
// left (processes, mounts, sysctls, host paths) and records the machine's
// state for this run's stop.
func (n *NodeCluster) prepareRunDir() error {
	if err := os.MkdirAll(n.opts.RunDir, 0o755); err != nil { //nolint:gosec // pods' log and volume dirs live here
		return fmt.Errorf("create run dir: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(n.opts.RunDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open node lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = lock.Close()
		return fmt.Errorf("another local node runs from %s (one node at a time: the kubelet uses fixed host paths): %w", n.opts.RunDir, err)
	}
	n.lock = lock
	if err := restoreHost(n.opts.RunDir); err != nil {
		return fmt.Errorf("clear what a previous node left: %w", err)
	}
	entries, err := os.ReadDir(n.opts.RunDir)
	if err != nil {
		return fmt.Errorf("read run dir: %w", err)
	}
	for _, e := range entries {
		if e.Name() != ".lock" {
			if err := os.RemoveAll(n.path(e.Name())); err != nil {
				return fmt.Errorf("clear run dir: %w", err)
			}
		}
	}
	return recordHostState(n.opts.RunDir)
}

func (n *NodeCluster) path(elem ...string) string {
	return filepath.Join(append([]string{n.opts.RunDir}, elem...)...)
}

func (n *NodeCluster) bin(name string) string { return filepath.Join(n.opts.RepoRoot, "bin", name) }

// start starts a component with the machine's PATH (the kubelet and
// containerd run mount, iptables, runc and the CNI plugins).
func (n *NodeCluster) start(name string, args ...string) (*Process, error) {
	p, err := StartProcess(ProcessOptions{
		Name: name, Path: n.bin(name), Args: args, LogDir: n.path("logs"),
		Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + n.path("home")},
	})
	if err != nil {
		return nil, err
	}
	n.procs = append(n.procs, p)
	return p, nil
}

// startControlPlane starts etcd and kube-apiserver and waits until the API
// server is ready and has published the kubernetes Service's endpoint.
func (n *NodeCluster) startControlPlane(ctx context.Context) error {
	if _, err := n.start("etcd",
		"--name=node", "--data-dir="+n.path("etcd"),
		"--listen-client-urls=http://127.0.0.1:2379", "--advertise-client-urls=http://127.0.0.1:2379",
		"--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
		"--initial-cluster=node=http://127.0.0.1:2380", "--listen-metrics-urls=",
		"--unsafe-no-fsync=true", "--log-level=warn"); err != nil {
		return err
	}
	pki := n.pki.path
	api, err := n.start("kube-apiserver",
		"--etcd-servers=http://127.0.0.1:2379",
		"--bind-address=0.0.0.0", "--secure-port=6443", "--advertise-address="+NodeIP,
		"--tls-cert-file="+pki("apiserver.crt"), "--tls-private-key-file="+pki("apiserver.key"),
		"--client-ca-file="+pki("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pki("sa.pub"), "--service-account-signing-key-file="+pki("sa.key"),
		"--service-cluster-ip-range="+ServiceCIDR,
		"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		// Services (admission webhooks, APIServices) resolve to pod endpoints.
		"--enable-aggregator-routing=true",
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-client-certificate="+pki("apiserver-kubelet-client.crt"), "--kubelet-client-key="+pki("apiserver-kubelet-client.key"),
		"--kubelet-certificate-authority="+pki("ca.crt"),
		// Aggregation as a real cluster has it.
		"--requestheader-client-ca-file="+pki("front-proxy-ca.crt"), "--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+pki("front-proxy-client.crt"), "--proxy-client-key-file="+pki("front-proxy-client.key"),
		"--profiling=false", "--v=1")
	if err != nil {
		return err
	}
	if n.config, err = clientcmd.BuildConfigFromFlags("", n.pki.kubeconfig("admin")); err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	if n.client, err = kubernetes.NewForConfig(n.config); err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	return n.poll(ctx, api, 90*time.Second, "kube-apiserver ready with the kubernetes Service's endpoint", func(ctx context.Context) (bool, error) {
		if _, err := n.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
			return false, nil //nolint:nilerr // not ready yet
		}
		eps, err := n.client.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=kubernetes"})
		return err == nil && len(eps.Items) > 0 && len(eps.Items[0].Endpoints) > 0, nil
	})
}

// poll calls ready until it says true, the process p exits, or timeout.
func (n *NodeCluster) poll(ctx context.Context, p *Process, timeout time.Duration, what string, ready wait.ConditionWithContextFunc) error {
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		select {
		case <-p.Exited():
			exit := p.ExitError()
			if exit == nil {
				exit = errors.New("exit status 0")
			}
			return false, fmt.Errorf("%s exited: %w", p.opts.Name, exit)
		default:
		}
		return ready(ctx)
	})
	if err != nil {
		return fmt.Errorf("wait for %s: %w\n%s", what, err, p.LogTail(25))
	}
	return nil
}

// startContainerd writes the CNI and containerd configs, starts containerd,
// and imports the images.
func (n *NodeCluster) startContainerd(ctx context.Context) error {
	dir := n.path("containerd")
	if err := writeFiles(n.opts.RunDir, map[string]string{
		"cni/net.d/10-gopherscope.conflist": cniConfig(n.path("cni", "ipam")),
		"containerd/config.toml":            containerdConfig(dir, n.path("cni", "net.d"), n.opts.PauseImage),
	}); err != nil {
		return err
	}
	p, err := StartProcess(ProcessOptions{
		Name: "containerd", Path: "containerd", LogDir: n.path("logs"),
		Args: []string{"--config=" + filepath.Join(dir, "config.toml"), "--log-level=warn"},
		Env:  []string{"PATH=" + os.Getenv("PATH")},
	})
	if err != nil {
		return err
	}
	n.procs = append(n.procs, p)
	if err := n.poll(ctx, p, 30*time.Second, "containerd", func(context.Context) (bool, error) {
		return ctr(dir, "version") == nil, nil
	}); err != nil {
		return err
	}
	start := time.Now()
	for _, archive := range n.opts.Images {
		if err := ctr(dir, "images", "import", "--no-unpack=false", archive); err != nil {
			return fmt.Errorf("import image %s: %w", archive, err)
		}
	}
	n.opts.Logf("containerd up, %d images imported in %s", len(n.opts.Images), since(start))
	return nil
}

// ctr runs containerd's ctr in the kubelet's namespace (k8s.io).
func ctr(containerdDir string, args ...string) error {
	return run(append([]string{"ctr", "--address", containerdSocket(containerdDir), "--namespace", "k8s.io"}, args...)...)
}

// startNodeAgents starts the kubelet, the controller-manager, the scheduler
// and kube-proxy.
func (n *NodeCluster) startNodeAgents() error {
	if err := writeFiles(n.opts.RunDir, map[string]string{
		"kubelet/config.yaml": kubeletConfig(n.pki, n.path("containerd"), n.path("pod-logs")),
	}); err != nil {
		return err
	}
	pki := n.pki.path
	for _, c := range []struct {
		name string
		args []string
	}{
		{"kubelet", []string{
			"--config=" + n.path("kubelet", "config.yaml"), "--kubeconfig=" + n.pki.kubeconfig("kubelet"),
			"--root-dir=" + n.path("kubelet", "root"), "--node-ip=" + NodeIP, "--hostname-override=" + NodeName, "--v=1",
		}},
		{"kube-controller-manager", []string{
			"--kubeconfig=" + n.pki.kubeconfig("controller-manager"),
			"--authentication-kubeconfig=" + n.pki.kubeconfig("controller-manager"),
			"--authorization-kubeconfig=" + n.pki.kubeconfig("controller-manager"),
			"--service-account-private-key-file=" + pki("sa.key"), "--root-ca-file=" + pki("ca.crt"),
			"--use-service-account-credentials=true", "--leader-elect=false",
			"--controllers=*,-nodeipam", "--bind-address=127.0.0.1", "--v=1",
		}},
		{"kube-scheduler", []string{
			"--kubeconfig=" + n.pki.kubeconfig("scheduler"),
			"--authentication-kubeconfig=" + n.pki.kubeconfig("scheduler"),
			"--authorization-kubeconfig=" + n.pki.kubeconfig("scheduler"),
			"--leader-elect=false", "--bind-address=127.0.0.1", "--v=1",
		}},
		{"kube-proxy", []string{
			"--kubeconfig=" + n.pki.kubeconfig("kube-proxy"), "--hostname-override=" + NodeName,
			"--proxy-mode=iptables", "--cluster-cidr=" + PodCIDR,
			// No global conntrack settings: the machine's are left alone.
			"--conntrack-max-per-core=0", "--conntrack-tcp-timeout-established=0", "--conntrack-tcp-timeout-close-wait=0",
			"--metrics-bind-address=127.0.0.1:10249", "--healthz-bind-address=127.0.0.1:10256", "--v=1",
		}},
	} {
		if _, err := n.start(c.name, c.args...); err != nil {
			return err
		}
	}
	return nil
}

// waitNodeReady waits until the node is Ready and the default namespace's
// ServiceAccount exists (pods cannot be created before it).
func (n *NodeCluster) waitNodeReady(ctx context.Context) error {
	kubelet := n.procs[slices.IndexFunc(n.procs, func(p *Process) bool { return p.opts.Name == "kubelet" })]
	return n.poll(ctx, kubelet, 120*time.Second, "node "+NodeName+" Ready", func(ctx context.Context) (bool, error) {
		node, err := n.client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // not registered yet
		}
		ready := slices.ContainsFunc(node.Status.Conditions, func(c corev1.NodeCondition) bool {
			return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
		})
		if !ready {
			return false, nil
		}
		if _, err := n.client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return false, nil
		}
		return true, nil
	})
}

// Config is an admin REST config for the API server.
func (n *NodeCluster) Config() *rest.Config { return rest.CopyConfig(n.config) }

// Client is an admin clientset.
func (n *NodeCluster) Client() kubernetes.Interface { return n.client }

// Kubeconfig is the path of an admin kubeconfig file.
func (n *NodeCluster) Kubeconfig() string { return n.pki.kubeconfig("admin") }

// RunDir is where the node keeps its state and logs (logs/NAME.log).
func (n *NodeCluster) RunDir() string { return n.opts.RunDir }

// Kubectl is the path of bin/kubectl, of the cluster's version.
func (n *NodeCluster) Kubectl() string { return n.bin("kubectl") }

// Stop stops the node: the kubelet first (so it starts nothing new), then
// every container, then the other components in reverse order; then it
// unmounts, restores the sysctls and removes what the node created outside
// its run directory. Logs stay in the run directory until the next start.
func (n *NodeCluster) Stop() error {
	var errs []error
	for _, p := range slices.Backward(n.procs) {
		if p.opts.Name == "kubelet" {
			errs = append(errs, ignoreSignalExit(p.Stop()))
		}
	}
	// The containers, then their shims, go with restoreHost's kill; killing
	// the containers first lets containerd see them exit while it runs.
	killProcesses(nodeCgroupProcs())
	for _, p := range slices.Backward(n.procs) {
		errs = append(errs, ignoreSignalExit(p.Stop()))
	}
	if n.lock != nil {
		errs = append(errs, restoreHost(n.opts.RunDir))
		errs = append(errs, n.lock.Close())
		n.lock = nil
	}
	return errors.Join(errs...)
}

// ignoreSignalExit drops what Process.Stop reports of a component that
// exited non-zero, or had to be killed, after SIGTERM: for the node's
// components that is a stop, not a failure (their logs stay).
func ignoreSignalExit(err error) error {
	var exit *exec.ExitError
	if errors.As(err, &exit) || (err != nil && strings.Contains(err.Error(), "after SIGTERM, killed")) {
		return nil
	}
	return err
}
