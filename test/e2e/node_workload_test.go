//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
	"github.com/gopherscope/gopherscope/test/localcluster"
	"github.com/gopherscope/gopherscope/webhook"
)

// What a user who applies a workload sees: the warnings its pods will get,
// printed by the machine's own kubectl, and in strict mode the denial.

// machineKubectlPath is the kubectl a user of this machine runs.
const machineKubectlPath = "/usr/bin/kubectl"

// The invalid annotation of the tests' Deployments, and what its pods and
// whoever applies them are told.
const (
	badInterval        = "fast"
	badIntervalWarning = `gopherscope.io/interval: "fast" is not a duration; using the default 10s`
	badIntervalDenial  = `invalid gopherscope annotations (strict mode): gopherscope.io/interval: "fast" is not a duration`
)

// userKubectl is the kubectl the tests run as a user would, chosen once.
var userKubectl struct {
	once sync.Once
	path string
}

// machineKubectl runs the machine's kubectl as the admin and returns its
// combined output (kubectl prints warnings on stderr). If that kubectl
// cannot talk to the cluster's API server at all, the test log says so and
// the repository's bin/kubectl (of the cluster's version) is used instead.
func (e *nodeEnv) machineKubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	userKubectl.once.Do(func() {
		userKubectl.path = machineKubectlPath
		out, err := e.runKubectl(t.Context(), machineKubectlPath, "version")
		if err != nil {
			userKubectl.path = e.cluster.Kubectl()
			t.Logf("%s cannot talk to the cluster's API server (%v: %s); using the repository's %s", machineKubectlPath, err, out, userKubectl.path)
			return
		}
		t.Logf("kubectl: %s\n%s", machineKubectlPath, out)
	})
	return e.runKubectl(t.Context(), userKubectl.path, args...)
}

// runKubectl runs a kubectl binary against the node as the admin.
func (e *nodeEnv) runKubectl(ctx context.Context, kubectl string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", e.cluster.Kubeconfig()}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// badDeployment is the demo Deployment with an invalid interval annotation.
func (e *nodeEnv) badDeployment(ns, name string) *appsv1.Deployment {
	d := e.demoDeployment(ns, name)
	d.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}
	d.Spec.Template.Annotations[config.AnnotationInterval] = badInterval
	return d
}

// manifestFile writes obj as a YAML file for kubectl apply -f.
func manifestFile(t *testing.T, obj any) string {
	t.Helper()
	data, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "workload.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestNodeKubectlApplyPrintsTheWarningsOfADeploymentsPods(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-warn", injectEnabled)
	d := e.badDeployment(ns, "warned")

	out, err := e.machineKubectl(t, "apply", "-f", manifestFile(t, d))
	if err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	if want := "Warning: " + badIntervalWarning; !strings.Contains(out, want) {
		t.Errorf("kubectl apply printed no %q:\n%s", want, out)
	}
	if !strings.Contains(out, "deployment.apps/warned created") {
		t.Errorf("kubectl apply did not create the Deployment:\n%s", out)
	}

	// The pod is injected with the default interval, and keeps the warning.
	pod := e.waitPod(t, ns, "app=warned", "Ready", localcluster.PodReady)
	if sidecarOf(pod) == nil {
		t.Fatalf("the Deployment's pod has no sidecar: %s", describePod(pod))
	}
	st, err := injector.ParseStatus(pod.Annotations[config.AnnotationStatus])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(st.Warnings, badIntervalWarning) {
		t.Errorf("the pod's status annotation records warnings %q, want %q among them", st.Warnings, badIntervalWarning)
	}

	// An apply that leaves the template as it was says nothing more.
	d.Spec.Replicas = new(int32)
	out, err = e.machineKubectl(t, "apply", "-f", manifestFile(t, d))
	if err != nil || strings.Contains(out, "Warning: ") {
		t.Errorf("kubectl apply of a new replica count: %v; want no warning:\n%s", err, out)
	}

	metricsURL := localcluster.PodURL(e.webhookPod(t), 8080, "/metrics")
	waitForSample(t, metricsURL, "the warned injection and workload check", func(s localcluster.Samples) bool {
		return s[webhook.MetricInjectionsTotal+`{reason="warnings",result="inject"}`] >= 1 &&
			s[webhook.MetricWorkloadChecksTotal+`{result="warned"}`] >= 1
	})
}

func TestNodeStrictModeDeniesKubectlApplyWithThePodsMessage(t *testing.T) {
	e := realNode(t)
	ns := e.namespace(t, "node-strict", injectEnabled)
	e.strictMode(t, ns)

	out, err := e.machineKubectl(t, "apply", "-f", manifestFile(t, e.badDeployment(ns, "refused")))
	if err == nil {
		t.Fatalf("kubectl apply of an invalid annotation in strict mode succeeded:\n%s", out)
	}
	want := `admission webhook "namespace.workloads.gopherscope.io" denied the request: ` + badIntervalDenial
	if !strings.Contains(out, want) {
		t.Errorf("kubectl apply's error lacks %q:\n%s", want, out)
	}
	if _, err := e.client.AppsV1().Deployments(ns).Get(t.Context(), "refused", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get the refused Deployment: %v, want NotFound", err)
	}
}

// strictMode turns injection.strict on with helm upgrade, back off (the
// chart's default) when t ends, and waits each time until the webhook has
// reloaded its config: until a server-side dry run of a bad Deployment in ns
// is denied exactly when strict is on.
func (e *nodeEnv) strictMode(t *testing.T, ns string) {
	t.Helper()
	// The probe's warnings are expected: keep them out of the test's log.
	cfg := e.cluster.Config()
	cfg.WarningHandler = rest.NoWarnings{}
	quiet, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set := func(ctx context.Context, strict bool) error {
		if err := e.release.Upgrade(ctx, map[string]string{"injection.strict": strconv.FormatBool(strict)}); err != nil {
			return err
		}
		probe := e.badDeployment(ns, "strict-probe")
		dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
		err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := quiet.AppsV1().Deployments(ns).Create(ctx, probe, dryRun)
			denied := err != nil && strings.Contains(err.Error(), badIntervalDenial)
			return denied == strict, nil
		})
		if err != nil {
			return fmt.Errorf("the webhook did not apply injection.strict=%t: %w", strict, err)
		}
		return nil
	}
	t.Cleanup(func() {
		// t.Context() is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		if err := set(ctx, false); err != nil {
			t.Errorf("restore injection.strict=false: %v", err)
		}
	})
	if err := set(t.Context(), true); err != nil {
		t.Fatal(err)
	}
}
