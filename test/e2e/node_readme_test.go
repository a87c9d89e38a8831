//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/gopherscope/gopherscope/test/localcluster"
)

// readmeBlock finds the README's tested code blocks: an HTML comment
// `<!-- readme-test: NAME -->` right before a ```sh fence.
var readmeBlock = regexp.MustCompile("(?s)<!-- readme-test: ([a-z-]+) -->\n```sh\n(.*?)```")

// readmeBlocks returns the README's tested blocks by name.
func readmeBlocks(t *testing.T) map[string]string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{}
	for _, m := range readmeBlock.FindAllStringSubmatch(string(readme), -1) {
		blocks[m[1]] = m[2]
	}
	for _, name := range []string{"install", "opt-in", "page"} {
		if blocks[name] == "" {
			t.Fatalf("README.md has no block marked <!-- readme-test: %s --> before a ```sh fence", name)
		}
	}
	return blocks
}

// TestReadmeInstallRunsOnTheRealNode runs the README's install, opt-in and
// page blocks, as written, on the real node with gopherscope uninstalled:
// the only change is where the images come from (REGISTRY and VERSION, which
// the README's image step sets, name the images imported into the node's
// containerd). The chart installs with --wait, the restarted Deployment's
// pod carries the sidecar, and the documented port-forward reaches the
// sidecar's metrics and page. The tests' own release is uninstalled first
// and installed again after, so the node is shared, not restarted.
func TestReadmeInstallRunsOnTheRealNode(t *testing.T) {
	blocks := readmeBlocks(t)
	e := realNode(t)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	if err := e.release.Uninstall(ctx); err != nil {
		t.Fatalf("uninstall the tests' release: %v", err)
	}
	t.Cleanup(func() { reinstallSharedRelease(t) })
	images := e.images

	// The user's namespace and Deployment, running before gopherscope exists.
	if _, err := e.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.client.CoreV1().Namespaces().Delete(context.WithoutCancel(t.Context()), "shop", metav1.DeleteOptions{})
	})
	before := e.runDeployment(t, e.demoDeployment("shop", "checkout"))
	if sidecarOf(before) != nil {
		t.Fatalf("the Deployment's pod has a sidecar before the install: %s", describePod(before))
	}

	env := append(os.Environ(),
		"PATH="+filepath.Join(repoRoot, "bin")+":"+os.Getenv("PATH"),
		"KUBECONFIG="+e.cluster.Kubeconfig(),
		"REGISTRY="+strings.TrimSuffix(images.Ref("webhook"), "/webhook:"+images.Version),
		"VERSION="+images.Version,
	)
	runReadmeBlock(ctx, t, "install", blocks["install"], env)
	runReadmeBlock(ctx, t, "opt-in", blocks["opt-in"], env)
	after := e.waitPod(t, "shop", "app=checkout", "Ready with the sidecar", func(p *corev1.Pod) bool {
		return p.DeletionTimestamp == nil && localcluster.PodReady(p) && sidecarOf(p) != nil
	})
	if got, want := sidecarOf(after).Image, images.Ref("sidecar"); got != want {
		t.Errorf("the sidecar's image is %q, want %q", got, want)
	}
	page := runReadmeBlock(ctx, t, "page", blocks["page"], env)
	for _, want := range []string{"go_goroutines ", "<title>gopherscope</title>"} {
		if !strings.Contains(page, want) {
			t.Errorf("the README's page block printed no %q:\n%s", want, page)
		}
	}
}

// reinstallSharedRelease uninstalls the README's release (the same name and
// namespace as the tests' own) and installs the tests' release again; if it
// cannot, every later test that needs the node fails with the reason.
func reinstallSharedRelease(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 5*time.Minute)
	defer cancel()
	err := node.release.Uninstall(ctx)
	if err == nil {
		node.release, err = node.cluster.InstallChart(ctx, localcluster.ReleaseOptions{Values: chartValuesFor(node.images)})
	}
	if err != nil {
		node.err = fmt.Errorf("install the tests' release again after the README's: %w", err)
		t.Error(node.err)
	}
}

// runReadmeBlock runs a README block with bash -euo pipefail in the
// repository root and returns its output; whatever it left running in the
// background (the port-forward) is killed with its process group.
func runReadmeBlock(ctx context.Context, t *testing.T, name, script string, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir, cmd.Env = repoRoot, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A block that fails before its last line leaves its background
	// process (the port-forward) holding the output pipe: give up on
	// the pipe soon after the shell exits instead of waiting for it.
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what the block left in the background
	}
	if err != nil {
		t.Fatalf("the README's %s block failed after %s: %v\n%s\noutput:\n%s", name, time.Since(start).Round(time.Second), err, script, out.String())
	}
	t.Logf("the README's %s block ran in %s:\n%s", name, time.Since(start).Round(time.Second), out.String())
	return out.String()
}
