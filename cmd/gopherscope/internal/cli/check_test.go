package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// checkRow is what a test expects of one pod's report.
type checkRow struct {
	namespace, pod string
	injected       bool
	reason, hint   string
	// message is a part of the report's message.
	message string
}

// TestCheckGivesEachReasonAgainstTheAPIServer installs the chart into the
// local API server, runs the freshly built webhook where its configuration
// calls it, creates pods that are and are not injected for each reason, and
// checks what `gopherscope check` says of each through the API server.
func TestCheckGivesEachReasonAgainstTheAPIServer(t *testing.T) {
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bins, err := localcluster.Build(t.Context(), root, t.TempDir(), "v0.0.0-check", "./cmd/webhook")
	if err != nil {
		t.Fatal(err)
	}
	cluster := localcluster.StartForTest(t, root)
	client := cluster.Client()

	// Before gopherscope is installed: a Deployment's pod and a bare pod in
	// an opted-in namespace. Timestamps have a resolution of a second.
	createNamespace(t, client, "early", config.InjectEnabled)
	rs := createReplicaSet(t, client, "early", "web-5d8f9")
	createPod(t, client, "early", withName("web-5d8f9-x2x9q"), func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}
	})
	createPod(t, client, "early", withName("bare"))
	time.Sleep(1100 * time.Millisecond)

	rel, err := cluster.InstallChart(t.Context(), localcluster.ReleaseOptions{Values: map[string]any{
		"injection": map[string]any{"excludedNamespaces": []any{"legacy"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	markWebhookReady(t, client, rel.Namespace, rel.Name)
	webhook, err := cluster.StartWebhook(t.Context(), rel, bins["webhook"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = webhook.Stop() })

	createNamespace(t, client, "shop", config.InjectEnabled)
	createPod(t, client, "shop", withName("injected"))
	createPod(t, client, "shop", withName("typo"), withAnnotations(map[string]string{"gopherscope.io/intervall": "30s"}))
	createPod(t, client, "shop", withName("hostnet"), func(p *corev1.Pod) { p.Spec.HostNetwork = true })
	createPod(t, client, "shop", withName("windows"), func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{corev1.LabelOSStable: "windows"} })
	createPod(t, client, "shop", withName("opted-out"), withLabels(map[string]string{config.KeyInject: config.InjectDisabled}))
	createPod(t, client, "shop", withName("annotation-opt-out"), withAnnotations(map[string]string{config.KeyInject: config.InjectAnnotationFalse}))
	createPod(t, client, "shop", withName("outdated"), withOldSidecar)
	createNamespace(t, client, "plain", "")
	createPod(t, client, "plain", withName("unlabelled"))
	createPod(t, client, "plain", withName("annotated"), withAnnotations(map[string]string{config.KeyInject: config.InjectEnabled}))
	createNamespace(t, client, "off", config.InjectDisabled)
	createPod(t, client, "off", withName("pod"))
	createNamespace(t, client, "legacy", config.InjectEnabled)
	createPod(t, client, "legacy", withName("pod"))
	createNamespace(t, client, "small", config.InjectEnabled)
	createLimitRange(t, client, "small", "32Mi")
	createPod(t, client, "small", withName("pod"))
	createNamespace(t, client, "late", "")
	createPod(t, client, "late", withName("pod"))
	labelNamespace(t, client, "late", config.InjectEnabled)

	kubeconfig := "--kubeconfig=" + cluster.Kubeconfig()
	rows := []checkRow{
		{"shop", "injected", true, "injected", "", "carries the sidecar"},
		{"shop", "typo", true, "injected", "", "carries the sidecar"},
		{"shop", "outdated", true, "sidecar-outdated", recreate("shop", "outdated"), "version v0.0.1, the webhook injects"},
		{"shop", "hostnet", false, "host-network", "helm upgrade gopherscope ... --reuse-values --set injection.allowHostNetwork=true", "hostNetwork"},
		{"shop", "windows", false, "windows", "", "Windows"},
		{"shop", "opted-out", false, "pod-opted-out", `remove the label gopherscope.io/inject=disabled from the pod template`, `label gopherscope.io/inject is "disabled"`},
		{"shop", "annotation-opt-out", false, "pod-annotation-opt-out", `remove the annotation gopherscope.io/inject: "false" from the pod template`, `annotation gopherscope.io/inject is "false"`},
		{"plain", "unlabelled", false, "not-opted-in", "kubectl label namespace plain gopherscope.io/inject=enabled", "neither the pod nor namespace"},
		{"plain", "annotated", false, "inject-annotation-not-label", "move gopherscope.io/inject: enabled from the pod template's annotations to its labels", "is an annotation"},
		{"off", "pod", false, "namespace-disabled", "kubectl label namespace off gopherscope.io/inject=enabled --overwrite", "gopherscope.io/inject=disabled"},
		{"legacy", "pod", false, "excluded-namespace", "remove legacy from the chart value injection.excludedNamespaces (system namespaces and gopherscope's own stay excluded)", `namespace "legacy" is excluded`},
		{"early", "web-5d8f9-x2x9q", false, "created-before-webhook-ready", "kubectl delete pod web-5d8f9-x2x9q -n early (its ReplicaSet creates it again)", "a dry-run create of its ReplicaSet web-5d8f9's template is injected now"},
		{"early", "bare", false, "created-before-webhook-ready", recreate("early", "bare"), "a dry-run create of its spec is injected now"},
		{"small", "pod", false, "resources", "lower injection.sidecar.resources, or raise the namespace's LimitRange", `LimitRange "small"`},
		{"late", "pod", false, "created-before-opt-in", recreate("late", "pod"), "before it or its namespace opted in"},
	}
	for _, row := range rows {
		t.Run(row.namespace+"/"+row.pod+" is "+row.reason, func(t *testing.T) {
			checkOnePod(t, row, kubeconfig)
		})
	}

	t.Run("a misspelled annotation is a warning with the nearest key", func(t *testing.T) {
		reports := checkJSON(t, kubeconfig, "-n", "shop", "typo")
		want := "annotation gopherscope.io/intervall is not a gopherscope key and is ignored; did you mean gopherscope.io/interval?"
		if len(reports) != 1 || !strings.Contains(strings.Join(reports[0].Warnings, "\n"), want) {
			t.Errorf("reports %+v, want the warning %q", reports, want)
		}
	})

	t.Run("the table has a row per pod of the selector with its hint", func(t *testing.T) {
		code, stdout, stderr := runCheckCLI(t, "check", kubeconfig, "-n", "plain", "-l", "app=web")
		if code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
		}
		for _, want := range []string{
			"POD         INJECTED  REASON                       HINT",
			"annotated   no        inject-annotation-not-label  move gopherscope.io/inject: enabled",
			"unlabelled  no        not-opted-in                 kubectl label namespace plain gopherscope.io/inject=enabled",
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the table lacks %q:\n%s", want, stdout)
			}
		}
	})

	// Last: the webhook stops, and a pod created meanwhile is not injected.
	unreachableHint := "make " + webhookURL(rel) + " reachable from the API server, with the caBundle of the webhook configuration gopherscope"
	t.Run("a pod created while the webhook is down is webhook-unreachable, with the auditor's finding", func(t *testing.T) {
		if err := webhook.Stop(); err != nil {
			t.Fatal(err)
		}
		pod := createPod(t, client, "shop", withName("missed"))
		recordAuditorEvent(t, client, pod, "WebhookUnreachable", "the API server did not reach the webhook")
		checkOnePod(t, checkRow{"shop", "missed", false, "webhook-unreachable", unreachableHint,
			"comes back without the sidecar: the API server does not reach the out-of-cluster webhook at " + webhookURL(rel) +
				"; the auditor reported WebhookUnreachable: the API server did not reach the webhook"}, kubeconfig)
	})
	t.Run("with failurePolicy Fail the refused dry-run is webhook-unreachable", func(t *testing.T) {
		patch := []byte(`[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Fail"},{"op":"replace","path":"/webhooks/1/failurePolicy","value":"Fail"}]`)
		if _, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Patch(t.Context(), rel.Name, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		checkOnePod(t, checkRow{"shop", "missed", false, "webhook-unreachable", unreachableHint, "is refused: Internal error occurred: failed calling webhook"}, kubeconfig)
	})
	t.Run("through a Service, the message counts its ready endpoints and the hint lists them", func(t *testing.T) {
		createWebhookService(t, client, rel.Namespace, rel.Name)
		var ops []string
		for i := range 2 {
			ops = append(ops, fmt.Sprintf(`{"op":"remove","path":"/webhooks/%d/clientConfig/url"}`, i),
				fmt.Sprintf(`{"op":"add","path":"/webhooks/%d/clientConfig/service","value":{"namespace":%q,"name":%q,"path":"/inject","port":443}}`, i, rel.Namespace, rel.Name),
				fmt.Sprintf(`{"op":"replace","path":"/webhooks/%d/failurePolicy","value":"Ignore"}`, i))
		}
		patch := []byte("[" + strings.Join(ops, ",") + "]")
		if _, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Patch(t.Context(), rel.Name, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		checkOnePod(t, checkRow{"shop", "missed", false, "webhook-unreachable",
			"kubectl get endpointslices -n gopherscope -l kubernetes.io/service-name=gopherscope",
			"the API server does not reach the webhook Service gopherscope/gopherscope (ready endpoints of the Service: 1)"}, kubeconfig)
	})
	t.Run("without the webhook configuration it is webhook-not-installed", func(t *testing.T) {
		if err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Delete(t.Context(), rel.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		checkOnePod(t, checkRow{"shop", "missed", false, "webhook-not-installed",
			"helm install gopherscope charts/gopherscope -n gopherscope --create-namespace (see the README)",
			"no MutatingWebhookConfiguration has gopherscope's webhooks"}, kubeconfig)
	})
}

// checkOnePod runs check on one pod and compares its report with row.
func checkOnePod(t *testing.T, row checkRow, kubeconfig string) {
	t.Helper()
	reports := checkJSON(t, kubeconfig, "-n", row.namespace, row.pod)
	if len(reports) != 1 {
		t.Fatalf("%d reports, want 1", len(reports))
	}
	r := reports[0]
	if r.Pod != row.pod || r.Injected != row.injected || r.Reason != row.reason || r.Hint != row.hint {
		t.Errorf("report: pod %q, injected %v, reason %q, hint %q\nwant:   pod %q, injected %v, reason %q, hint %q\n(message %q)",
			r.Pod, r.Injected, r.Reason, r.Hint, row.pod, row.injected, row.reason, row.hint, r.Message)
	}
	if !strings.Contains(r.Message, row.message) {
		t.Errorf("message %q, want it to contain %q", r.Message, row.message)
	}
}

// checkJSON runs check -o json and decodes its reports.
func checkJSON(t *testing.T, args ...string) []podReport {
	t.Helper()
	code, stdout, stderr := runCheckCLI(t, append([]string{"check", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	var reports []podReport
	if err := json.Unmarshal([]byte(stdout), &reports); err != nil {
		t.Fatalf("decode %q: %v", stdout, err)
	}
	return reports
}

// runCheckCLI runs the command line and returns its exit code and output.
func runCheckCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(t.Context(), "gopherscope", args, Streams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr})
	return code, stdout.String(), stderr.String()
}

// recreate is the hint for a pod with no controller.
func recreate(ns, pod string) string {
	return "re-create the pod: kubectl get pod " + pod + " -n " + ns + " -o yaml > pod.yaml, then kubectl replace --force -f pod.yaml"
}

func webhookURL(rel *localcluster.Release) string {
	return "https://127.0.0.1:" + strconv.Itoa(rel.WebhookPort) + "/inject"
}

// markWebhookReady creates what a cluster shows of a webhook that became
// ready now: the chart's Deployment (an out-of-cluster release has none)
// and a pod of it whose Ready condition the kubelet set now. The local API
// server has no kubelet, so the test writes the pod's status.
func markWebhookReady(t *testing.T, client kubernetes.Interface, namespace, name string) {
	t.Helper()
	selector := map[string]string{"app.kubernetes.io/name": "gopherscope", "app.kubernetes.io/component": "webhook"}
	template := podSpecTemplate(selector)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: selector}, Template: template},
	}
	if _, err := client.AppsV1().Deployments(namespace).Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := createPod(t, client, namespace, withName(name+"-0"), withLabels(selector))
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	if _, err := client.CoreV1().Pods(namespace).UpdateStatus(t.Context(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestCheckRefusesABadCommandLineBeforeReadingTheCluster(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"two pods", []string{"check", "a", "b"}, `at most one POD, got ["a" "b"]`},
		{"a pod and a selector", []string{"check", "a", "-l", "app=web"}, "give a POD or -l SELECTOR, not both"},
		{"an unknown output format", []string{"check", "-o", "yaml"}, `-o "yaml": want table or json`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCheckCLI(t, tc.args...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit code %d, stdout %q, stderr %q; want %d and %q", code, stdout, stderr, exitUsage, tc.want)
			}
		})
	}
}
