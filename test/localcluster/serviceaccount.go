package localcluster

// Added for the auditor's end-to-end test (test/e2e/auditor_test.go): run the
// webhook with more flags, and as the chart's ServiceAccount.

import (
	"context"
	"fmt"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
)

// RestartWith stops the webhook if it runs, appends extraArgs to its
// arguments (a flag given twice takes the last value) and, if env is not
// nil, makes env its whole environment; later restarts keep both. It then
// starts the webhook and waits until it is ready.
func (w *Webhook) RestartWith(ctx context.Context, extraArgs, env []string) error {
	if err := w.Stop(); err != nil {
		return err
	}
	p := w.Process
	p.mu.Lock()
	p.opts.Args = append(append([]string(nil), p.opts.Args...), extraArgs...)
	if env != nil {
		p.opts.Env = env
	}
	p.mu.Unlock()
	return w.Restart(ctx)
}

// ServiceAccountKubeconfig writes a kubeconfig that reaches the API server
// as the ServiceAccount namespace/name (the admin credentials impersonating
// it, with the groups the API server gives a ServiceAccount), and returns
// its path. A process that uses it has exactly the permissions RBAC grants
// that ServiceAccount, such as the chart's.
func (c *Cluster) ServiceAccountKubeconfig(namespace, name string) (string, error) {
	cfg, err := clientcmd.LoadFromFile(c.kubeconfig)
	if err != nil {
		return "", fmt.Errorf("read kubeconfig: %w", err)
	}
	for _, auth := range cfg.AuthInfos {
		auth.Impersonate = "system:serviceaccount:" + namespace + ":" + name
	}
	path := filepath.Join(c.opts.WorkDir, "kubeconfig-"+namespace+"-"+name)
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return path, nil
}
