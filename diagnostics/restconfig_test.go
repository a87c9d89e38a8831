package diagnostics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRestConfigFollowsKubeconfigWithoutRateLimit(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("KUBERNETES_SERVICE_HOST", "") // not in a pod
	kubeconfig := filepath.Join(dir, "kubeconfig")
	t.Setenv("KUBECONFIG", kubeconfig)
	if _, err := RestConfig(); err == nil || !strings.Contains(err.Error(), "find the API server") {
		t.Errorf("RestConfig without a kubeconfig = %v; want an error that says what it looked for", err)
	}
	const config = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`
	if err := os.WriteFile(kubeconfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := RestConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://127.0.0.1:6443" || cfg.BearerToken != "t" || cfg.QPS != -1 {
		t.Errorf("RestConfig = host %q, token %q, QPS %v; want the kubeconfig's, and QPS -1 (no client-side rate limit)", cfg.Host, cfg.BearerToken, cfg.QPS)
	}
}
