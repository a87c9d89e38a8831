//go:build e2e

package e2e

import (
	"bytes"
	"context"
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
// page blocks, as written, on a fresh node: the only change is where the
// images come from (REGISTRY and VERSION, which the README's image step
// sets, name the images imported into the node's containerd). The chart
// installs with --wait, the restarted Deployment's pod carries the sidecar,
// and the documented port-forward reaches the sidecar's metrics and page.
// One node runs at a time, so the tests' shared node is stopped first.
func TestReadmeInstallRunsOnTheRealNode(t *testing.T) {
	if node.unavailable != nil {
		t.Fatalf("this test needs the real node, which cannot run here: %v", node.unavailable)
	}
	blocks := readmeBlocks(t)
	if err := resetNode(); err != nil {
		t.Fatalf("stop the tests' shared node: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	images, err := localcluster.BuildNodeImages(ctx, repoRoot, t.TempDir(), testVersion)
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := localcluster.StartNode(ctx, localcluster.NodeOptions{
		RepoRoot: repoRoot, Images: images.Archives, PauseImage: images.Ref("pause"), Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			t.Errorf("stop the node: %v", err)
		}
	}()
	e := &nodeEnv{cluster: cluster, client: cluster.Client(), images: images}

	// The user's namespace and Deployment, running before gopherscope exists.
	if _, err := e.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := e.runDeployment(t, e.demoDeployment("shop", "checkout"))
	if sidecarOf(before) != nil {
		t.Fatalf("the Deployment's pod has a sidecar before the install: %s", describePod(before))
	}

	env := append(os.Environ(),
		"PATH="+filepath.Join(repoRoot, "bin")+":"+os.Getenv("PATH"),
		"KUBECONFIG="+cluster.Kubeconfig(),
		"REGISTRY="+strings.TrimSuffix(images.Ref("webhook"), "/webhook:"+images.Version),
		"VERSION="+images.Version,
	)
	runReadmeBlock(ctx, t, "install", blocks["install"], env)
	runReadmeBlock(ctx, t, "opt-in", blocks["opt-in"], env)
	after := e.waitPod(t, "shop", "app=checkout", "Ready with the sidecar", func(p *corev1.Pod) bool {
		return p.DeletionTimestamp == nil && podReady(p) && sidecarOf(p) != nil
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
