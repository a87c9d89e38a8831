package chart_test

import (
	"bytes"
	"crypto/x509"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"
)

// TestInstallAndUpgradeOnTheLocalControlPlane installs the chart the way the e2e suite does
// (tls.mode=helm, an out-of-cluster webhook) into a real API server, which validates every
// object (the webhook configuration's CEL included), then upgrades it: an unchanged upgrade
// keeps the certificates, a change of names re-signs the serving certificate with the same CA.
func TestInstallAndUpgradeOnTheLocalControlPlane(t *testing.T) {
	r := newRenderer(t)
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := localcluster.Start(t.Context(), localcluster.Options{RepoRoot: root, WorkDir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
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
		"kubectl port-forward -n NAMESPACE pod/POD 9184",
		"Out-of-cluster webhook: the API server calls https://127.0.0.1:9443/inject",
		"kubectl get secret -n " + namespace + " " + fullname + "-tls",
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
