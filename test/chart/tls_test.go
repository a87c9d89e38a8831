package chart_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/test/chart"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var serviceDNSNames = []string{
	fullname + "." + namespace + ".svc",
	fullname + "." + namespace + ".svc.cluster.local",
}

func TestCertManagerMode(t *testing.T) {
	tests := []struct {
		name      string
		values    map[string]any
		wantDNS   []string
		wantIPs   []string
		wantNoCRs bool
	}{
		{name: "it issues a serving certificate for the Service", values: values("tls.mode", "cert-manager"), wantDNS: serviceDNSNames},
		{
			name: "an out-of-cluster webhook gets its IP address and extra DNS names in the certificate",
			values: values("tls.mode", "cert-manager", "webhook.url", "https://127.0.0.1:9443/inject",
				"tls.ipAddresses", []string{"127.0.0.1"}, "tls.dnsNames", []string{"localhost"}),
			wantDNS: append(append([]string(nil), serviceDNSNames...), "localhost"),
			wantIPs: []string{"127.0.0.1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.values)
			issuerRef := func(name string) cmmeta.IssuerReference {
				return cmmeta.IssuerReference{Group: "cert-manager.io", Kind: "Issuer", Name: name}
			}
			selfSigned := get[*cmv1.Issuer](t, m, fullname+"-selfsigned")
			if diff := cmp.Diff(cmv1.IssuerSpec{IssuerConfig: cmv1.IssuerConfig{SelfSigned: &cmv1.SelfSignedIssuer{}}}, selfSigned.Spec); diff != "" {
				t.Errorf("self-signed Issuer spec (-want +got):\n%s", diff)
			}
			caIssuer := get[*cmv1.Issuer](t, m, fullname+"-ca")
			if diff := cmp.Diff(cmv1.IssuerSpec{IssuerConfig: cmv1.IssuerConfig{CA: &cmv1.CAIssuer{SecretName: fullname + "-ca"}}}, caIssuer.Spec); diff != "" {
				t.Errorf("CA Issuer spec (-want +got):\n%s", diff)
			}
			ecdsa := &cmv1.CertificatePrivateKey{Algorithm: cmv1.ECDSAKeyAlgorithm, Size: 256}
			wantCA := cmv1.CertificateSpec{
				IsCA:       true,
				CommonName: fullname + "-ca",
				SecretName: fullname + "-ca",
				Duration:   &metav1.Duration{Duration: 43800 * time.Hour},
				PrivateKey: ecdsa,
				IssuerRef:  issuerRef(fullname + "-selfsigned"),
			}
			if diff := cmp.Diff(wantCA, get[*cmv1.Certificate](t, m, fullname+"-ca").Spec); diff != "" {
				t.Errorf("CA Certificate spec (-want +got):\n%s", diff)
			}
			wantServing := cmv1.CertificateSpec{
				CommonName:  serviceDNSNames[0],
				DNSNames:    tc.wantDNS,
				IPAddresses: tc.wantIPs,
				SecretName:  fullname + "-tls",
				Duration:    &metav1.Duration{Duration: 2160 * time.Hour},
				RenewBefore: &metav1.Duration{Duration: 360 * time.Hour},
				Usages:      []cmv1.KeyUsage{cmv1.UsageDigitalSignature, cmv1.UsageServerAuth},
				PrivateKey: &cmv1.CertificatePrivateKey{
					Algorithm: cmv1.ECDSAKeyAlgorithm, Size: 256, RotationPolicy: cmv1.RotationPolicyAlways,
				},
				IssuerRef: issuerRef(fullname + "-ca"),
			}
			if diff := cmp.Diff(wantServing, get[*cmv1.Certificate](t, m, fullname+"-serving").Spec); diff != "" {
				t.Errorf("serving Certificate spec (-want +got):\n%s", diff)
			}

			mwc := get[*admissionregistrationv1.MutatingWebhookConfiguration](t, m, fullname)
			if got, want := mwc.Annotations["cert-manager.io/inject-ca-from"], namespace+"/"+fullname+"-serving"; got != want {
				t.Errorf("inject-ca-from = %q, want %q", got, want)
			}
			for _, w := range mwc.Webhooks {
				if len(w.ClientConfig.CABundle) != 0 {
					t.Errorf("webhook %s has a caBundle in cert-manager mode; cert-manager injects it", w.Name)
				}
			}
			if secrets := webhookSecrets(m); len(secrets) != 0 {
				t.Errorf("cert-manager mode renders %d Secrets; cert-manager creates them", len(secrets))
			}
		})
	}
}

func TestHelmModeGeneratesACAThatSignedTheServingCertificate(t *testing.T) {
	tests := []struct {
		name    string
		values  map[string]any
		wantDNS []string
		wantIPs []string
	}{
		{name: "in-cluster: the Service's names", values: values("tls.mode", "helm"), wantDNS: serviceDNSNames},
		{
			name: "out-of-cluster: the Service's names and 127.0.0.1",
			values: values("tls.mode", "helm", "webhook.url", "https://127.0.0.1:9443/inject",
				"tls.ipAddresses", []string{"127.0.0.1"}),
			wantDNS: serviceDNSNames,
			wantIPs: []string{"127.0.0.1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.values)
			mwc := get[*admissionregistrationv1.MutatingWebhookConfiguration](t, m, fullname)
			if _, ok := mwc.Annotations["cert-manager.io/inject-ca-from"]; ok {
				t.Error("helm mode sets cert-manager.io/inject-ca-from")
			}
			caBundle := mwc.Webhooks[0].ClientConfig.CABundle
			for _, w := range mwc.Webhooks {
				if string(w.ClientConfig.CABundle) != string(caBundle) {
					t.Errorf("webhook %s has a different caBundle from %s", w.Name, mwc.Webhooks[0].Name)
				}
			}
			ca := parseOneCert(t, "caBundle", caBundle)
			if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
				t.Errorf("caBundle certificate is not a CA: IsCA=%v keyUsage=%v", ca.IsCA, ca.KeyUsage)
			}
			if got, want := ca.Subject.CommonName, fullname+"-ca"; got != want {
				t.Errorf("CA common name = %q, want %q", got, want)
			}

			caSecret := get[*corev1.Secret](t, m, fullname+"-ca")
			if string(caSecret.Data[corev1.TLSCertKey]) != string(caBundle) {
				t.Error("the CA Secret's tls.crt is not the caBundle")
			}
			secret := get[*corev1.Secret](t, m, fullname+"-tls")
			if secret.Type != corev1.SecretTypeTLS {
				t.Errorf("serving Secret type = %q, want %q", secret.Type, corev1.SecretTypeTLS)
			}
			if string(secret.Data["ca.crt"]) != string(caBundle) {
				t.Error("the serving Secret's ca.crt is not the caBundle")
			}
			if _, err := tls.X509KeyPair(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey]); err != nil {
				t.Errorf("tls.crt and tls.key do not make a key pair: %v", err)
			}
			if _, err := tls.X509KeyPair(caSecret.Data[corev1.TLSCertKey], caSecret.Data[corev1.TLSPrivateKeyKey]); err != nil {
				t.Errorf("the CA's tls.crt and tls.key do not make a key pair: %v", err)
			}

			serving := parseOneCert(t, "tls.crt", secret.Data[corev1.TLSCertKey])
			if diff := cmp.Diff(tc.wantDNS, serving.DNSNames); diff != "" {
				t.Errorf("serving certificate DNS names (-want +got):\n%s", diff)
			}
			var ips []string
			for _, ip := range serving.IPAddresses {
				ips = append(ips, ip.String())
			}
			if diff := cmp.Diff(tc.wantIPs, ips); diff != "" {
				t.Errorf("serving certificate IP addresses (-want +got):\n%s", diff)
			}
			roots := x509.NewCertPool()
			roots.AddCert(ca)
			hosts := append(append([]string(nil), tc.wantDNS...), tc.wantIPs...)
			for _, host := range hosts {
				opts := x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
				if _, err := serving.Verify(opts); err != nil {
					t.Errorf("the API server could not verify the webhook as %s: %v", host, err)
				}
			}
			if _, err := serving.Verify(x509.VerifyOptions{Roots: roots, DNSName: "evil.example.com"}); err == nil {
				t.Error("the serving certificate verifies for a name it was not issued for")
			}
			if len(tc.wantIPs) == 0 {
				if err := serving.VerifyHostname("127.0.0.1"); err == nil {
					t.Error("without tls.ipAddresses the certificate names 127.0.0.1")
				}
			}
			notAfter, err := strconv.ParseInt(secret.Annotations["gopherscope.io/tls-not-after"], 10, 64)
			if err != nil || math.Abs(float64(notAfter-serving.NotAfter.Unix())) > 60 {
				t.Errorf("serving Secret annotation tls-not-after = %q, want the certificate's expiry %d", secret.Annotations["gopherscope.io/tls-not-after"], serving.NotAfter.Unix())
			}
			if names := secret.Annotations["gopherscope.io/tls-names"]; !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(names) {
				t.Errorf("serving Secret annotation tls-names = %q, want a sha256 of the certificate's names", names)
			}
			if want := time.Now().Add(730 * 24 * time.Hour); serving.NotAfter.Before(want.Add(-time.Hour)) || serving.NotAfter.After(want.Add(time.Hour)) {
				t.Errorf("serving certificate expires %v, want about %v (tls.helm.validityDays 730)", serving.NotAfter, want)
			}
			if hasCertManager(m) {
				t.Errorf("helm mode renders cert-manager objects: %v", m.Names())
			}
		})
	}
}

func TestSecretModeUsesTheGivenSecretAndCABundle(t *testing.T) {
	caBundle := []byte("-----BEGIN CERTIFICATE-----\nnot parsed by the chart\n-----END CERTIFICATE-----\n")
	m := render(t, values("tls.mode", "secret", "tls.secret.name", "my-tls", "tls.secret.caBundle", caBundle))
	mwc := get[*admissionregistrationv1.MutatingWebhookConfiguration](t, m, fullname)
	for _, w := range mwc.Webhooks {
		if string(w.ClientConfig.CABundle) != string(caBundle) {
			t.Errorf("webhook %s caBundle = %q, want %q", w.Name, w.ClientConfig.CABundle, caBundle)
		}
	}
	if len(mwc.Annotations) != 0 {
		t.Errorf("secret mode annotates the webhook configuration: %v", mwc.Annotations)
	}
	d := get[*appsv1.Deployment](t, m, fullname)
	if got := secretVolume(d); got != "my-tls" {
		t.Errorf("the Deployment mounts Secret %q, want my-tls", got)
	}
	if secrets := webhookSecrets(m); len(secrets) != 0 || hasCertManager(m) {
		t.Errorf("secret mode renders certificates of its own: %v", m.Names())
	}
}

// parseOneCert decodes exactly one PEM certificate.
func parseOneCert(t *testing.T, what string, data []byte) *x509.Certificate {
	t.Helper()
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s is not a PEM certificate: %q", what, data)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("%s holds more than one PEM block", what)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("parse %s: %v", what, err)
	}
	return cert
}

func TestSelfModeIsTheDefaultAndRendersNothingThatChangesBetweenRenders(t *testing.T) {
	first := renderRaw(t, nil)
	if second := renderRaw(t, nil); string(first) != string(second) {
		t.Fatalf("two renders of the defaults differ: a GitOps tool would see drift on every sync:\n%s", cmp.Diff(string(first), string(second)))
	}
	m, err := chart.Decode(first)
	if err != nil {
		t.Fatal(err)
	}
	if hasCertManager(m) {
		t.Error("the default mode renders cert-manager resources")
	}
	secrets := webhookSecrets(m)
	if len(secrets) != 1 || secrets[0].Name != fullname+"-self-tls" || secrets[0].Namespace != namespace {
		t.Fatalf("Secrets %v, want only %s/%s-self-tls", secretNames(secrets), namespace, fullname)
	}
	if s := secrets[0]; len(s.Data) != 0 || len(s.StringData) != 0 || s.Type != corev1.SecretTypeOpaque {
		t.Errorf("the Secret has type %q and %d keys; want an empty Opaque Secret the webhook fills", s.Type, len(s.Data)+len(s.StringData))
	}
	mwc := get[*admissionregistrationv1.MutatingWebhookConfiguration](t, m, fullname)
	vwc := get[*admissionregistrationv1.ValidatingWebhookConfiguration](t, m, fullname)
	for _, obj := range []metav1.Object{mwc, vwc} {
		if _, ok := obj.GetAnnotations()["cert-manager.io/inject-ca-from"]; ok {
			t.Errorf("%s asks cert-manager for its caBundle", obj.GetName())
		}
	}
	for _, w := range mwc.Webhooks {
		if len(w.ClientConfig.CABundle) != 0 {
			t.Errorf("mutating webhook %s has a rendered caBundle; the webhook sets it", w.Name)
		}
	}
	for _, w := range vwc.Webhooks {
		if len(w.ClientConfig.CABundle) != 0 {
			t.Errorf("validating webhook %s has a rendered caBundle; the webhook sets it", w.Name)
		}
	}
	d := get[*appsv1.Deployment](t, m, fullname)
	var mounted string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "tls" && v.Secret != nil {
			mounted = v.Secret.SecretName
		}
	}
	if mounted != fullname+"-self-tls" {
		t.Errorf("the webhook mounts Secret %q as its certificate, want the one it fills", mounted)
	}
}

func TestSelfModeSyncsOnlyTheWebhookConfigurationsTheChartRenders(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   string
	}{
		{name: "the pod injector and the workload validator", want: "--tls-self-webhooks=mutating/" + fullname + ",validating/" + fullname},
		{name: "the pod injector alone", values: values("webhook.validateWorkloads", false), want: "--tls-self-webhooks=mutating/" + fullname},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := get[*appsv1.Deployment](t, render(t, tc.values), fullname).Spec.Template.Spec.Containers[0].Args
			if !slices.Contains(args, tc.want) {
				t.Errorf("args %q lack %q", args, tc.want)
			}
		})
	}
}

func secretNames(secrets []*corev1.Secret) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, s.Namespace+"/"+s.Name)
	}
	return out
}

// webhookSecrets are the manifest's Secrets but the diagnostics server's CA Secret, whose
// own test is TestDiagnosticsCAObjectsAreCreatedEmpty.
func webhookSecrets(m *chart.Manifest) []*corev1.Secret {
	var out []*corev1.Secret
	for _, s := range chart.All[*corev1.Secret](m) {
		if s.Name != diagnosticsCA {
			out = append(out, s)
		}
	}
	return out
}
