package chart_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/chart"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The names of the workload validator's matchConditions; what they say is checked by
// evaluating them (TestWorkloadValidatorIsCalledOnceForWhatItsPodsWouldBeInjected).
const (
	condNotOptedOut = "template-not-opted-out-by-annotation"
	condHasKey      = "template-has-a-gopherscope-key"
)

// wantWorkloadWebhooks is the two-entry ValidatingWebhookConfiguration of the workload
// validator; matchConditions are compared by name only.
func wantWorkloadWebhooks(cc admissionregistrationv1.WebhookClientConfig, timeout int32, excluded []string) []admissionregistrationv1.ValidatingWebhook {
	notExcluded := metav1.LabelSelectorRequirement{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: excluded}
	createUpdate := []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update}
	common := func(w admissionregistrationv1.ValidatingWebhook) admissionregistrationv1.ValidatingWebhook {
		w.ClientConfig = cc
		w.Rules = []admissionregistrationv1.RuleWithOperations{
			{Operations: createUpdate, Rule: admissionregistrationv1.Rule{
				APIGroups: []string{"apps"}, APIVersions: []string{"v1"},
				Resources: []string{"deployments", "statefulsets", "daemonsets", "replicasets"},
				Scope:     ptr(admissionregistrationv1.NamespacedScope),
			}},
			{Operations: createUpdate, Rule: admissionregistrationv1.Rule{
				APIGroups: []string{"batch"}, APIVersions: []string{"v1"},
				Resources: []string{"jobs", "cronjobs"},
				Scope:     ptr(admissionregistrationv1.NamespacedScope),
			}},
		}
		w.MatchPolicy = ptr(admissionregistrationv1.Equivalent)
		w.SideEffects = ptr(admissionregistrationv1.SideEffectClassNone)
		w.AdmissionReviewVersions = []string{"v1"}
		w.FailurePolicy = ptr(admissionregistrationv1.Ignore)
		w.TimeoutSeconds = ptr(timeout)
		return w
	}
	return []admissionregistrationv1.ValidatingWebhook{
		common(admissionregistrationv1.ValidatingWebhook{
			Name: "namespace.workloads.gopherscope.io",
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: config.KeyInject, Operator: metav1.LabelSelectorOpIn, Values: []string{config.InjectEnabled}},
				notExcluded,
			}},
			MatchConditions: []admissionregistrationv1.MatchCondition{{Name: condNotOptedOut}},
		}),
		common(admissionregistrationv1.ValidatingWebhook{
			Name: "template.workloads.gopherscope.io",
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: config.KeyInject, Operator: metav1.LabelSelectorOpNotIn, Values: []string{config.InjectEnabled, config.InjectDisabled}},
				notExcluded,
			}},
			MatchConditions: []admissionregistrationv1.MatchCondition{{Name: condNotOptedOut}, {Name: condHasKey}},
		}),
	}
}

// ignoreExpressions compares matchConditions by name.
var ignoreExpressions = cmpopts.IgnoreFields(admissionregistrationv1.MatchCondition{}, "Expression")

func TestWorkloadValidatorConfiguration(t *testing.T) {
	systemAndOwn := append(append([]string(nil), config.SystemNamespaces...), namespace)
	service := admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
		Namespace: namespace, Name: fullname, Path: ptr("/validate-workloads"), Port: ptr[int32](443),
	}}
	tests := []struct {
		name   string
		values map[string]any
		want   []admissionregistrationv1.ValidatingWebhook
	}{
		{
			name:   "defaults call the Service's /validate-workloads, ignore failures after 5s and exclude system and own namespaces",
			values: nil,
			want:   wantWorkloadWebhooks(service, 5, systemAndOwn),
		},
		{
			name:   "the timeout follows the mutating webhook's; failurePolicy Fail there still ignores failures here",
			values: values("webhook.failurePolicy", "Fail", "webhook.timeoutSeconds", 12),
			want:   wantWorkloadWebhooks(service, 12, systemAndOwn),
		},
		{
			name:   "excluded namespaces are excluded here too",
			values: values("injection.excludedNamespaces", []string{"legacy"}),
			want:   wantWorkloadWebhooks(service, 5, append(systemAndOwn, "legacy")),
		},
		{
			name: "webhook.url is called with its path replaced",
			values: values("webhook.url", "https://127.0.0.1:9443/inject",
				"tls.ipAddresses", []string{"127.0.0.1"}),
			want: wantWorkloadWebhooks(admissionregistrationv1.WebhookClientConfig{URL: ptr("https://127.0.0.1:9443/validate-workloads")}, 5, systemAndOwn),
		},
		{
			name: "a webhook.url with a path prefix and a host name keeps its host",
			values: values("webhook.url", "https://gopherscope.example.com:8443/hooks/inject",
				"tls.dnsNames", []string{"gopherscope.example.com"}),
			want: wantWorkloadWebhooks(admissionregistrationv1.WebhookClientConfig{URL: ptr("https://gopherscope.example.com:8443/validate-workloads")}, 5, systemAndOwn),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.values)
			got := get[*admissionregistrationv1.ValidatingWebhookConfiguration](t, m, fullname)
			if diff := cmp.Diff(tc.want, got.Webhooks, ignoreExpressions); diff != "" {
				t.Errorf("webhooks mismatch (-want +got):\n%s", diff)
			}
			if n := len(chart.All[*admissionregistrationv1.ValidatingWebhookConfiguration](m)); n != 1 {
				t.Errorf("the chart renders %d ValidatingWebhookConfigurations, want 1", n)
			}
		})
	}
	t.Run("validateWorkloads=false renders none", func(t *testing.T) {
		m := render(t, values("webhook.validateWorkloads", false))
		if n := len(chart.All[*admissionregistrationv1.ValidatingWebhookConfiguration](m)); n != 0 {
			t.Errorf("the chart renders %d ValidatingWebhookConfigurations, want none", n)
		}
		if !has(m, "MutatingWebhookConfiguration/"+fullname) {
			t.Error("validateWorkloads=false dropped the MutatingWebhookConfiguration")
		}
	})
}

// TestWorkloadValidatorTrustsTheMutatingWebhooksCA: in every TLS mode the validator's
// entries get their CA where the injector's do, since one server serves both.
func TestWorkloadValidatorTrustsTheMutatingWebhooksCA(t *testing.T) {
	for _, mode := range []map[string]any{
		values("tls.mode", "self"),
		values("tls.mode", "cert-manager"),
		values("tls.mode", "helm"),
		values("tls.mode", "secret", "tls.secret.name", "my-tls", "tls.secret.caBundle", "Q0E="),
	} {
		t.Run(mode["tls"].(map[string]any)["mode"].(string), func(t *testing.T) {
			m := render(t, mode)
			mwc := get[*admissionregistrationv1.MutatingWebhookConfiguration](t, m, fullname)
			vwc := get[*admissionregistrationv1.ValidatingWebhookConfiguration](t, m, fullname)
			if diff := cmp.Diff(mwc.Annotations, vwc.Annotations); diff != "" {
				t.Errorf("annotations (cert-manager's inject-ca-from) differ (-mutating +validating):\n%s", diff)
			}
			for _, w := range vwc.Webhooks {
				if string(w.ClientConfig.CABundle) != string(mwc.Webhooks[0].ClientConfig.CABundle) {
					t.Errorf("webhook %s has caBundle %q, the injector's is %q", w.Name, w.ClientConfig.CABundle, mwc.Webhooks[0].ClientConfig.CABundle)
				}
			}
		})
	}
}

// workloadJSON is a workload as the API server hands it to CEL: its JSON.
func workloadJSON(t *testing.T, obj any) map[string]any {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWorkloadValidatorIsCalledOnceForWhatItsPodsWouldBeInjected evaluates, for sample
// workloads in sample namespaces, what the API server does: an entry is called when its
// namespaceSelector matches the namespace's labels (with kubernetes.io/metadata.name) and
// every matchCondition, compiled with CEL, is true. A workload is checked by exactly one
// entry when its namespace opts in or its template carries a gopherscope.io/ key, and by
// none otherwise.
func TestWorkloadValidatorIsCalledOnceForWhatItsPodsWouldBeInjected(t *testing.T) {
	tmpl := func(labels, annotations map[string]string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}},
		}
	}
	app := map[string]string{"app": "web"}
	withKey := func(m map[string]string, k, v string) map[string]string {
		out := maps.Clone(m)
		if out == nil {
			out = map[string]string{}
		}
		out[k] = v
		return out
	}
	deployment := func(pt corev1.PodTemplateSpec) map[string]any {
		return workloadJSON(t, &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: app},
			Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: app}, Template: pt},
		})
	}
	cronJob := func(pt corev1.PodTemplateSpec) map[string]any {
		return workloadJSON(t, &batchv1.CronJob{
			TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
			ObjectMeta: metav1.ObjectMeta{Name: "nightly"},
			Spec:       batchv1.CronJobSpec{Schedule: "@daily", JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: pt}}},
		})
	}
	enabled := map[string]string{config.KeyInject: config.InjectEnabled}
	disabled := map[string]string{config.KeyInject: config.InjectDisabled}
	plainDeployment := deployment(tmpl(app, nil))
	annotatedDeployment := deployment(tmpl(app, map[string]string{config.AnnotationInterval: "fast"}))
	selfLabelled := deployment(tmpl(app, nil))
	selfLabelled["metadata"].(map[string]any)["labels"] = map[string]any{"app": "web", config.KeyInject: config.InjectEnabled}
	tests := []struct {
		name      string
		namespace string
		nsLabels  map[string]string
		object    map[string]any
		want      string // the entry that is called, "" for none
	}{
		{name: "a plain Deployment in an enabled namespace", namespace: "shop", nsLabels: enabled, object: plainDeployment, want: "namespace.workloads.gopherscope.io"},
		{name: "a Deployment with a gopherscope annotation in an enabled namespace (called once, not twice)", namespace: "shop", nsLabels: enabled, object: annotatedDeployment, want: "namespace.workloads.gopherscope.io"},
		{name: "a Deployment with a gopherscope annotation in an unlabelled namespace", namespace: "shop", object: annotatedDeployment, want: "template.workloads.gopherscope.io"},
		{name: "a Deployment whose template opts in by label in an unlabelled namespace", namespace: "shop", object: deployment(tmpl(withKey(app, config.KeyInject, config.InjectEnabled), nil)), want: "template.workloads.gopherscope.io"},
		{name: "a CronJob whose job template carries a gopherscope annotation", namespace: "shop", object: cronJob(tmpl(nil, map[string]string{config.AnnotationPort: "7070"})), want: "template.workloads.gopherscope.io"},
		{name: "a CronJob in an enabled namespace", namespace: "shop", nsLabels: enabled, object: cronJob(tmpl(nil, nil)), want: "namespace.workloads.gopherscope.io"},
		{name: "a plain Deployment in an unlabelled namespace is not sent", namespace: "shop", object: plainDeployment},
		{name: "a plain CronJob in an unlabelled namespace is not sent", namespace: "shop", object: cronJob(tmpl(nil, nil))},
		{name: "a gopherscope label on the Deployment itself, not its template, is not enough", namespace: "shop", object: selfLabelled},
		{name: "a template annotated out is not sent, even in an enabled namespace", namespace: "shop", nsLabels: enabled,
			object: deployment(tmpl(app, map[string]string{config.KeyInject: config.InjectAnnotationFalse, config.AnnotationInterval: "fast"}))},
		{name: "a template annotated out is not sent from an unlabelled namespace", namespace: "shop",
			object: cronJob(tmpl(withKey(nil, config.KeyInject, config.InjectEnabled), map[string]string{config.KeyInject: config.InjectAnnotationFalse}))},
		{name: "nothing from a disabled namespace is sent", namespace: "shop", nsLabels: disabled, object: annotatedDeployment},
		{name: "nothing from kube-system is sent", namespace: "kube-system", nsLabels: enabled, object: annotatedDeployment},
		{name: "nothing from the release's namespace is sent", namespace: namespace, nsLabels: enabled, object: annotatedDeployment},
		{name: "a template without metadata evaluates without error and is not sent from an unlabelled namespace", namespace: "shop",
			object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "bare"}, "spec": map[string]any{"template": map[string]any{}}}},
		{name: "an object without spec evaluates without error", namespace: "shop", nsLabels: enabled,
			object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "bare"}}, want: "namespace.workloads.gopherscope.io"},
	}

	env, err := cel.NewEnv(cel.Variable("object", cel.DynType))
	if err != nil {
		t.Fatal(err)
	}
	vwc := get[*admissionregistrationv1.ValidatingWebhookConfiguration](t, render(t, nil), fullname)
	type entry struct {
		name       string
		selector   labels.Selector
		conditions []cel.Program
	}
	var entries []entry
	for _, w := range vwc.Webhooks {
		sel, err := metav1.LabelSelectorAsSelector(w.NamespaceSelector)
		if err != nil {
			t.Fatalf("webhook %s: namespaceSelector: %v", w.Name, err)
		}
		e := entry{name: w.Name, selector: sel}
		for _, mc := range w.MatchConditions {
			ast, issues := env.Compile(mc.Expression)
			if issues.Err() != nil {
				t.Fatalf("webhook %s, condition %s: compile %q: %v", w.Name, mc.Name, mc.Expression, issues.Err())
			}
			program, err := env.Program(ast)
			if err != nil {
				t.Fatal(err)
			}
			e.conditions = append(e.conditions, program)
		}
		entries = append(entries, e)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nsLabels := withKey(tc.nsLabels, "kubernetes.io/metadata.name", tc.namespace)
			var called []string
			for _, e := range entries {
				if !e.selector.Matches(labels.Set(nsLabels)) {
					continue
				}
				all := true
				for _, p := range e.conditions {
					out, _, err := p.Eval(map[string]any{"object": tc.object})
					if err != nil {
						t.Fatalf("webhook %s: evaluate: %v", e.name, err)
					}
					if out.Value() != true {
						all = false
					}
				}
				if all {
					called = append(called, e.name)
				}
			}
			if got := strings.Join(called, ","); got != tc.want {
				t.Errorf("called %q, want %q", got, tc.want)
			}
		})
	}
}
