package chart_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/chart"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// wantWebhooks is the two-entry webhook list DESIGN.md describes ("Opting in").
func wantWebhooks(cc admissionregistrationv1.WebhookClientConfig, failurePolicy admissionregistrationv1.FailurePolicyType, timeout int32, excluded []string) []admissionregistrationv1.MutatingWebhook {
	notExcluded := metav1.LabelSelectorRequirement{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: excluded}
	notOwnPod := metav1.LabelSelectorRequirement{Key: config.LabelComponent, Operator: metav1.LabelSelectorOpDoesNotExist}
	common := func(w admissionregistrationv1.MutatingWebhook) admissionregistrationv1.MutatingWebhook {
		w.ClientConfig = cc
		w.Rules = []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"pods"},
				Scope: ptr(admissionregistrationv1.NamespacedScope),
			},
		}}
		w.MatchPolicy = ptr(admissionregistrationv1.Equivalent)
		w.SideEffects = ptr(admissionregistrationv1.SideEffectClassNone)
		w.AdmissionReviewVersions = []string{"v1"}
		w.ReinvocationPolicy = ptr(admissionregistrationv1.IfNeededReinvocationPolicy)
		w.FailurePolicy = ptr(failurePolicy)
		w.TimeoutSeconds = ptr(timeout)
		w.MatchConditions = []admissionregistrationv1.MatchCondition{{
			Name: "not-opted-out-by-annotation",
			Expression: "!has(object.metadata.annotations) || " +
				"!('gopherscope.io/inject' in object.metadata.annotations) || " +
				"object.metadata.annotations['gopherscope.io/inject'] != 'false'",
		}}
		return w
	}
	return []admissionregistrationv1.MutatingWebhook{
		common(admissionregistrationv1.MutatingWebhook{
			Name: "namespace.inject.gopherscope.io",
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: config.KeyInject, Operator: metav1.LabelSelectorOpIn, Values: []string{config.InjectEnabled}},
				notExcluded,
			}},
			ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: config.KeyInject, Operator: metav1.LabelSelectorOpNotIn, Values: []string{config.InjectDisabled}},
				notOwnPod,
			}},
		}),
		common(admissionregistrationv1.MutatingWebhook{
			Name: "pod.inject.gopherscope.io",
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: config.KeyInject, Operator: metav1.LabelSelectorOpNotIn, Values: []string{config.InjectEnabled, config.InjectDisabled}},
				notExcluded,
			}},
			ObjectSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: config.KeyInject, Operator: metav1.LabelSelectorOpIn, Values: []string{config.InjectEnabled}},
				notOwnPod,
			}},
		}),
	}
}

func serviceClientConfig() admissionregistrationv1.WebhookClientConfig {
	return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
		Namespace: namespace, Name: fullname, Path: ptr("/inject"), Port: ptr[int32](443),
	}}
}

func TestWebhookConfiguration(t *testing.T) {
	systemAndOwn := append(append([]string(nil), config.SystemNamespaces...), namespace)
	tests := []struct {
		name   string
		values map[string]any
		want   []admissionregistrationv1.MutatingWebhook
	}{
		{
			name:   "defaults call the Service, ignore failures after 5s and exclude system and own namespaces",
			values: nil,
			want:   wantWebhooks(serviceClientConfig(), admissionregistrationv1.Ignore, 5, systemAndOwn),
		},
		{
			name:   "failurePolicy and timeoutSeconds come from values",
			values: values("webhook.failurePolicy", "Fail", "webhook.timeoutSeconds", 12),
			want:   wantWebhooks(serviceClientConfig(), admissionregistrationv1.Fail, 12, systemAndOwn),
		},
		{
			name:   "excluded namespaces are added once, after the system and own namespaces",
			values: values("injection.excludedNamespaces", []string{"legacy", "kube-system", "batch"}),
			want:   wantWebhooks(serviceClientConfig(), admissionregistrationv1.Ignore, 5, append(systemAndOwn, "legacy", "batch")),
		},
		{
			name: "webhook.url replaces the Service reference",
			values: values("webhook.url", "https://127.0.0.1:9443/inject",
				"tls.ipAddresses", []string{"127.0.0.1"}),
			want: wantWebhooks(admissionregistrationv1.WebhookClientConfig{URL: ptr("https://127.0.0.1:9443/inject")},
				admissionregistrationv1.Ignore, 5, systemAndOwn),
		},
		{
			name: "a host name URL is accepted when the certificate lists it",
			values: values("webhook.url", "https://gopherscope.example.com/inject",
				"tls.dnsNames", []string{"gopherscope.example.com"}),
			want: wantWebhooks(admissionregistrationv1.WebhookClientConfig{URL: ptr("https://gopherscope.example.com/inject")},
				admissionregistrationv1.Ignore, 5, systemAndOwn),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.values)
			got := get[*admissionregistrationv1.MutatingWebhookConfiguration](t, m, fullname)
			if diff := cmp.Diff(tc.want, got.Webhooks); diff != "" {
				t.Errorf("webhooks mismatch (-want +got):\n%s", diff)
			}
			if n := len(chart.All[*admissionregistrationv1.MutatingWebhookConfiguration](m)); n != 1 {
				t.Errorf("the chart renders %d MutatingWebhookConfigurations, want 1", n)
			}
		})
	}
}

func TestOutOfClusterWebhookInstallsNoWorkload(t *testing.T) {
	m := render(t, values("tls.mode", "helm", "webhook.url", "https://127.0.0.1:9443/inject",
		"tls.ipAddresses", []string{"127.0.0.1"}, "metrics.serviceMonitor.enabled", true))
	for _, kindAndName := range []string{"Deployment/" + fullname, "Service/" + fullname, "PodDisruptionBudget/" + fullname, "ServiceMonitor/" + fullname} {
		if has(m, kindAndName) {
			t.Errorf("with webhook.url the chart renders %s; want only what an out-of-cluster webhook needs", kindAndName)
		}
	}
	for _, kindAndName := range []string{"ConfigMap/" + fullname + "-config", "Secret/" + fullname + "-tls", "Secret/" + fullname + "-ca",
		"MutatingWebhookConfiguration/" + fullname, "ValidatingWebhookConfiguration/" + fullname} {
		if !has(m, kindAndName) {
			t.Errorf("with webhook.url the chart does not render %s (have %v)", kindAndName, m.Names())
		}
	}
}
