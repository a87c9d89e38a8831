package localcluster

import (
	"context"
	"fmt"
	"time"
)

// InstallChart installs charts/gopherscope on the node as a user would: no
// webhook.url, so the webhook runs as the chart's own Deployment behind its
// Service, and helm waits until it is ready. opts.Values are the user's
// values (image names, TLS mode, replicas).
func (n *NodeCluster) InstallChart(ctx context.Context, opts ReleaseOptions) (*Release, error) {
	if opts.Name == "" {
		opts.Name = DefaultRelease
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	r := &Release{Name: opts.Name, Namespace: opts.Namespace, cluster: n.helmTarget()}
	start := time.Now()
	values := map[string]any{}
	mergeValues(values, opts.Values)
	if err := r.install(ctx, values, "--wait", "--timeout=3m"); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, n.LogTail("kubelet", 15))
	}
	n.opts.Logf("installed chart %s into namespace %s in %s; its webhook pod is ready", opts.Name, opts.Namespace, since(start))
	return r, nil
}

func (n *NodeCluster) helmTarget() helmTarget {
	return helmTarget{repoRoot: n.opts.RepoRoot, workDir: n.path("work"), kubeconfig: n.Kubeconfig(), client: n.client, logf: n.opts.Logf}
}

// LogTail is the end of a component's log ("kubelet", "containerd", …).
func (n *NodeCluster) LogTail(component string, lines int) string {
	for _, p := range n.procs {
		if p.opts.Name == component {
			return p.LogTail(lines)
		}
	}
	return fmt.Sprintf("(no component %q)", component)
}
