package localcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Options say where the repository and a scratch directory are.
type Options struct {
	// RepoRoot is the repository root: bin/ and charts/ are found under it.
	RepoRoot string
	// WorkDir receives the kubeconfig, certificates, configs and process logs.
	WorkDir string
	// Logf reports progress; nil discards it.
	Logf func(format string, args ...any)
}

// Cluster is a running local control plane.
type Cluster struct {
	opts       Options
	env        *envtest.Environment
	config     *rest.Config
	kubeconfig string
	client     kubernetes.Interface
}

// Start starts etcd and kube-apiserver from RepoRoot/bin (or
// KUBEBUILDER_ASSETS) and waits until the API server serves.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	bin := filepath.Join(opts.RepoRoot, "bin")
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("control plane binary %s: %w (run `make controlplane`)", name, err)
		}
	}
	if err := os.MkdirAll(opts.WorkDir, 0o750); err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory:    bin,
		ControlPlaneStartTimeout: 60 * time.Second,
		// A test's API server need not drain: on SIGTERM kube-apiserver waits
		// up to a minute for open watches (a webhook's namespace cache holds
		// one) to end. After this it is killed, which is harmless here.
		ControlPlaneStopTimeout: controlPlaneStopGrace,
	}
	// A fixed certificate directory keeps the API server's serving
	// certificate across RestartAPIServer (envtest regenerates it, and its CA,
	// when it allocated the directory itself).
	apiCertDir := filepath.Join(opts.WorkDir, "kube-apiserver")
	if err := os.MkdirAll(apiCertDir, 0o700); err != nil {
		return nil, fmt.Errorf("create API server cert dir: %w", err)
	}
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: apiCertDir}
	if InNodeNetwork() {
		// The node's namespace has no default route, from which
		// kube-apiserver would pick its advertised address: name one.
		env.ControlPlane.APIServer.Configure().Set("advertise-address", NodeIP)
	}
	opts.Logf("starting kube-apiserver and etcd from %s", bin)
	start := time.Now()
	cfg, err := startEnv(ctx, env)
	if err != nil {
		return nil, err
	}
	opts.Logf("control plane up in %s at %s", time.Since(start).Round(100*time.Millisecond), cfg.Host)
	c := &Cluster{opts: opts, env: env, config: cfg}
	c.kubeconfig = filepath.Join(opts.WorkDir, "kubeconfig")
	if err := os.WriteFile(c.kubeconfig, env.KubeConfig, 0o600); err != nil {
		return nil, errors.Join(fmt.Errorf("write kubeconfig: %w", err), env.Stop())
	}
	if c.client, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, errors.Join(fmt.Errorf("client: %w", err), env.Stop())
	}
	return c, nil
}

// startEnv starts env, giving up (and cleaning up) when ctx ends first.
func startEnv(ctx context.Context, env *envtest.Environment) (*rest.Config, error) {
	type result struct {
		cfg *rest.Config
		err error
	}
	done := make(chan result, 1)
	go func() {
		cfg, err := env.Start()
		done <- result{cfg, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("start control plane: %w", r.err)
		}
		return r.cfg, nil
	case <-ctx.Done():
		r := <-done
		if r.err == nil {
			_ = env.Stop()
		}
		return nil, fmt.Errorf("start control plane: %w", ctx.Err())
	}
}

// Config is an admin REST config for the API server.
func (c *Cluster) Config() *rest.Config { return rest.CopyConfig(c.config) }

// Client is an admin clientset.
func (c *Cluster) Client() kubernetes.Interface { return c.client }

// Kubeconfig is the path of an admin kubeconfig file.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// RestartAPIServer stops and starts kube-apiserver, keeping etcd and its data.
func (c *Cluster) RestartAPIServer() error {
	api := c.env.ControlPlane.APIServer
	if err := api.Stop(); ignoreKilled(err) != nil {
		return fmt.Errorf("stop kube-apiserver: %w", err)
	}
	// envtest sends SIGKILL after controlPlaneStopGrace without waiting for the exit;
	// the new server needs the old one's port.
	addr := net.JoinHostPort(api.Address, api.Port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		_ = conn.Close()
		if time.Now().After(deadline) {
			return fmt.Errorf("stop kube-apiserver: %s still accepts connections", addr)
		}
	}
	if err := api.Start(); err != nil {
		return fmt.Errorf("start kube-apiserver: %w", err)
	}
	return nil
}

// controlPlaneStopGrace is how long a control plane process may shut down gracefully
// before envtest kills it.
const controlPlaneStopGrace = 3 * time.Second

// ignoreKilled drops envtest's error for a process it had to kill after
// controlPlaneStopGrace: for a test's control plane that is a stop, not a failure.
func ignoreKilled(err error) error {
	if err != nil && strings.Contains(err.Error(), "timeout waiting for process") {
		return nil
	}
	return err
}

// Stop stops the API server and etcd.
func (c *Cluster) Stop() error {
	if err := c.env.Stop(); ignoreKilled(err) != nil {
		return fmt.Errorf("stop control plane: %w", err)
	}
	return nil
}
