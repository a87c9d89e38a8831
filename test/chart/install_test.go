package chart_test

import (
	"bytes"
	"crypto/x509"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// TestInstallAndUpgradeOnTheLocalControlPlane installs the chart the way the e2e suite does
// (tls.mode=helm, an out-of-cluster webhook) into a real API server, which validates every
// object (the webhook configuration's CEL included), then upgrades it: an unchanged upgrade
// keeps the certificates, a change of names re-signs the serving certificate with the same CA.
func TestInstallAndUpgradeOnTheLocalControlPlane(t *testing.T) {
	r := newRenderer(t)
	cluster, helm := startClusterWithHelm(t, r)
	outOfCluster := []string{
		"--namespace", namespace,
		"--set", "tls.mode=helm",
		"--set", "webhook.url=https://127.0.0.1:9443/inject",
		"--set", "tls.ipAddresses={127.0.0.1}",
	}
	client := cluster.Client()
	type state struct {
		ca, crt, key, caBundle []byte
		serving                *x509.Certificate
	}
	read := func() state {
		t.Helper()
		secret, err := client.CoreV1().Secrets(namespace).Get(t.Context(), fullname+"-tls", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mwc, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), fullname, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := state{
			ca: secret.Data["ca.crt"], crt: secret.Data[corev1.TLSCertKey], key: secret.Data[corev1.TLSPrivateKeyKey],
			caBundle: mwc.Webhooks[0].ClientConfig.CABundle,
		}
		s.serving = parseOneCert(t, "tls.crt", s.crt)
		roots := x509.NewCertPool()
		roots.AddCert(parseOneCert(t, "caBundle", s.caBundle))
		if _, err := s.serving.Verify(x509.VerifyOptions{Roots: roots, DNSName: "127.0.0.1"}); err != nil {
			t.Errorf("the stored caBundle does not verify the stored serving certificate for 127.0.0.1: %v", err)
		}
		return s
	}

	notes := helm(append([]string{"install", release, r.ChartDir, "--create-namespace"}, outOfCluster...)...)
	for _, want := range []string{
		"kubectl label namespace NAMESPACE gopherscope.io/inject=enabled",
		"kubectl port-forward -n NAMESPACE deploy/NAME 9184",
		"kubectl get pods -A -L gopherscope.io/sidecar-version",
		"Out-of-cluster webhook: the API server calls https://127.0.0.1:9443/inject",
		"kubectl get secret -n " + namespace + " " + fullname + "-tls -o 'jsonpath={.data.tls\\.crt}' | base64 -d > tls/tls.crt",
		"webhook --cert-dir=tls --config=config.yaml --namespace=" + namespace + " --port=9443",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("install output lacks %q:\n%s", want, notes)
		}
	}
	installed := read()
	mwc, err := client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), fullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	systemAndOwn := append(slices.Clone([]string{"kube-system", "kube-public", "kube-node-lease"}), namespace)
	want := wantWebhooks(admissionregistrationv1.WebhookClientConfig{URL: ptr("https://127.0.0.1:9443/inject"), CABundle: installed.caBundle},
		admissionregistrationv1.Ignore, 5, systemAndOwn)
	if diff := cmp.Diff(want, mwc.Webhooks); diff != "" {
		t.Errorf("stored webhooks (-want +got):\n%s", diff)
	}
	// The API server compiled the workload validator's CEL and stored it.
	vwc, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(t.Context(), fullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantWorkloads := wantWorkloadWebhooks(admissionregistrationv1.WebhookClientConfig{URL: ptr("https://127.0.0.1:9443/validate-workloads"), CABundle: installed.caBundle},
		5, systemAndOwn)
	for i := range wantWorkloads {
		wantWorkloads[i].ObjectSelector = &metav1.LabelSelector{} // the API server's default
	}
	if diff := cmp.Diff(wantWorkloads, vwc.Webhooks, ignoreExpressions); diff != "" {
		t.Errorf("stored workload webhooks (-want +got):\n%s", diff)
	}

	helm(append([]string{"upgrade", release, r.ChartDir}, outOfCluster...)...)
	upgraded := read()
	if !bytes.Equal(installed.ca, upgraded.ca) || !bytes.Equal(installed.crt, upgraded.crt) ||
		!bytes.Equal(installed.key, upgraded.key) || !bytes.Equal(installed.caBundle, upgraded.caBundle) {
		t.Error("an unchanged helm upgrade replaced the certificates; it must reuse them")
	}

	helm(append([]string{"upgrade", release, r.ChartDir, "--set", "tls.dnsNames={localhost}", "--set", "webhook.failurePolicy=Fail"}, outOfCluster...)...)
	renamed := read()
	if bytes.Equal(installed.crt, renamed.crt) {
		t.Error("adding tls.dnsNames kept the old serving certificate, which does not name localhost")
	}
	if !slices.Contains(renamed.serving.DNSNames, "localhost") {
		t.Errorf("re-signed certificate names %v, want localhost among them", renamed.serving.DNSNames)
	}
	if !bytes.Equal(installed.ca, renamed.ca) || !bytes.Equal(installed.caBundle, renamed.caBundle) {
		t.Error("re-signing the serving certificate changed the CA; the caBundle must stay")
	}
	mwc, err = client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), fullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := *mwc.Webhooks[1].FailurePolicy; got != admissionregistrationv1.Fail {
		t.Errorf("failurePolicy after upgrade = %s, want Fail", got)
	}

	helm("uninstall", release, "--namespace", namespace)
	_, err = client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), fullname, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("after uninstall, getting the webhook configuration: %v, want NotFound", err)
	}
}

// TestCertManagerModeOnTheLocalControlPlane installs the default (cert-manager) chart into a
// real API server that has cert-manager's own CRDs (from its Go module), so the Issuers and
// Certificates are validated against cert-manager's schemas. No cert-manager runs: nothing is
// issued and no webhook pod starts (there is no kubelet), but every object is accepted.
func TestCertManagerModeOnTheLocalControlPlane(t *testing.T) {
	r := newRenderer(t)
	cluster, helm := startClusterWithHelm(t, r)
	out, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Dir}}", "github.com/cert-manager/cert-manager").Output()
	if err != nil {
		t.Fatalf("find the cert-manager module: %v", err)
	}
	crds := filepath.Join(strings.TrimSpace(string(out)), "deploy", "crds")
	if _, err := envtest.InstallCRDs(cluster.Config(), envtest.CRDInstallOptions{Paths: []string{crds}, ErrorIfPathMissing: true}); err != nil {
		t.Fatalf("install cert-manager CRDs from %s: %v", crds, err)
	}

	notes := helm("install", release, r.ChartDir, "--namespace", namespace, "--create-namespace",
		"--set", "injection.excludedNamespaces={legacy}", "--set", "tls.mode=cert-manager")
	for _, want := range []string{
		"Never injected: kube-system, kube-public, kube-node-lease,\n   " + namespace + ", legacy.",
		"kubectl get certificate -n " + namespace + " " + fullname + "-serving",
		"kubectl get pods -n " + namespace + " -l app.kubernetes.io/instance=" + release + ",app.kubernetes.io/component=webhook",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("install output lacks %q:\n%s", want, notes)
		}
	}
	scheme, err := chart.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ctrlclient.New(cluster.Config(), ctrlclient.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	var serving cmv1.Certificate
	if err := c.Get(t.Context(), ctrlclient.ObjectKey{Namespace: namespace, Name: fullname + "-serving"}, &serving); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(serviceDNSNames, serving.Spec.DNSNames); diff != "" {
		t.Errorf("stored serving Certificate DNS names (-want +got):\n%s", diff)
	}
	for _, name := range []string{fullname + "-selfsigned", fullname + "-ca"} {
		var issuer cmv1.Issuer
		if err := c.Get(t.Context(), ctrlclient.ObjectKey{Namespace: namespace, Name: name}, &issuer); err != nil {
			t.Errorf("Issuer %s: %v", name, err)
		}
	}
	mwc, err := cluster.Client().AdmissionregistrationV1().MutatingWebhookConfigurations().Get(t.Context(), fullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mwc.Annotations["cert-manager.io/inject-ca-from"], namespace+"/"+fullname+"-serving"; got != want {
		t.Errorf("stored inject-ca-from = %q, want %q", got, want)
	}
	deployment, err := cluster.Client().AppsV1().Deployments(namespace).Get(t.Context(), fullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := secretVolume(deployment); got != fullname+"-tls" {
		t.Errorf("the stored Deployment mounts Secret %q, want the serving Certificate's %s-tls", got, fullname)
	}
	helm("uninstall", release, "--namespace", namespace)
}

// startClusterWithHelm starts the local control plane (stopped when the test ends) and
// returns a function that runs bin/helm against it, failing the test if helm fails.
func startClusterWithHelm(t *testing.T, r *chart.Renderer) (*localcluster.Cluster, func(args ...string) string) {
	t.Helper()
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster := localcluster.StartForTest(t, root)
	// helm checks the chart's kubeVersion (>=1.28) against the server's /version, which an
	// unstamped build of kube-apiserver reports as v0.0.0-master.
	serverVersion, err := cluster.Client().Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v, err := version.ParseSemantic(serverVersion.GitVersion); err != nil || v.LessThan(version.MustParseSemantic("v1.28.0-0")) {
		t.Fatalf("bin/kube-apiserver reports version %q, so helm refuses the chart (kubeVersion >=1.28.0-0): "+
			"build it with -ldflags -X k8s.io/component-base/version.gitVersion=v1.37.2 (and gitMajor, gitMinor)", serverVersion.GitVersion)
	}
	helmHome := t.TempDir()
	helm := func(args ...string) string {
		t.Helper()
		args = append(args, "--kubeconfig", cluster.Kubeconfig())
		cmd := exec.CommandContext(t.Context(), r.Helm, args...)
		cmd.Env = append(cmd.Environ(),
			"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
			"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
			"HELM_DATA_HOME="+filepath.Join(helmHome, "data"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	return cluster, helm
}
