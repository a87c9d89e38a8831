package chart_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/test/chart"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

var diagnosticsSelector = map[string]string{
	"app.kubernetes.io/name":      "gopherscope",
	"app.kubernetes.io/instance":  release,
	"app.kubernetes.io/component": "diagnostics",
}

func TestDiagnosticsServerRunsAsBriefed(t *testing.T) {
	d := get[*appsv1.Deployment](t, render(t, nil), diagnosticsName)
	if d.Namespace != namespace || *d.Spec.Replicas != 2 {
		t.Errorf("Deployment %s/%s with %d replicas, want %s with the webhook's default of 2", d.Namespace, d.Name, *d.Spec.Replicas, namespace)
	}
	if diff := cmp.Diff(diagnosticsSelector, d.Spec.Selector.MatchLabels); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	pod := d.Spec.Template
	if pod.Labels["gopherscope.io/component"] != "diagnostics" {
		t.Errorf("pod labels %v lack gopherscope.io/component (never injected)", pod.Labels)
	}
	if pod.Spec.ServiceAccountName != diagnosticsName || pod.Spec.AutomountServiceAccountToken == nil || !*pod.Spec.AutomountServiceAccountToken {
		t.Errorf("pod runs as %q (automount %v), want %s with its token", pod.Spec.ServiceAccountName, pod.Spec.AutomountServiceAccountToken, diagnosticsName)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]
	if want := "ghcr.io/gopherscope/diagnostics:" + appVersion(t); c.Image != want {
		t.Errorf("image %s, want %s", c.Image, want)
	}
	wantArgs := []string{
		"--listen-address=:8443",
		"--namespace=$(POD_NAMESPACE)",
		"--ca-secret=" + diagnosticsCA,
		"--ca-bundle-configmap=" + diagnosticsCA,
		"--apiservice=" + apiServiceName,
		"--tls-dns-names=" + diagnosticsName + "." + namespace + ".svc," + diagnosticsName + "." + namespace + ".svc.cluster.local",
		"--root-validity=87600h",
		"--root-overlap=8760h",
		"--cert-validity=24h",
		"--log-level=info",
	}
	if diff := cmp.Diff(wantArgs, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	wantEnv := []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}
	if diff := cmp.Diff(wantEnv, c.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	wantPorts := []corev1.ContainerPort{{Name: "https", ContainerPort: 8443, Protocol: corev1.ProtocolTCP}}
	if diff := cmp.Diff(wantPorts, c.Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"readiness", c.ReadinessProbe, "/readyz"}, {"liveness", c.LivenessProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s probe", p.name)
			continue
		}
		want := corev1.HTTPGetAction{Path: p.path, Port: intstr.FromString("https"), Scheme: corev1.URISchemeHTTPS}
		if diff := cmp.Diff(want, *p.probe.HTTPGet); diff != "" {
			t.Errorf("%s probe (-want +got):\n%s", p.name, diff)
		}
	}
	wantResources := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
	}
	quantities := cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })
	if diff := cmp.Diff(wantResources, c.Resources, quantities); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
	anti := pod.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	if len(anti) != 1 || !cmp.Equal(diagnosticsSelector, anti[0].PodAffinityTerm.LabelSelector.MatchLabels) {
		t.Errorf("anti-affinity %+v, want its replicas spread by hostname", anti)
	}

	t.Run("it passes the restricted Pod Security Standard", func(t *testing.T) {
		evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
		if err != nil {
			t.Fatal(err)
		}
		restricted := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
		result := policy.AggregateCheckResults(evaluator.EvaluatePod(restricted, &pod.ObjectMeta, &pod.Spec))
		if !result.Allowed {
			t.Errorf("the diagnostics pod violates the restricted Pod Security Standard: %s: %s", result.ForbiddenReason(), result.ForbiddenDetail())
		}
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("container security context %+v, want a read-only root and non-root", sc)
		}
	})
}

func TestDiagnosticsOptions(t *testing.T) {
	m := render(t, values(
		"diagnostics.replicaCount", 3,
		"diagnostics.image.repository", "registry.example.com/diagnostics",
		"diagnostics.image.digest", "sha256:"+sha256Hex,
		"diagnostics.image.pullPolicy", "Always",
		"diagnostics.port", 10443,
		"diagnostics.logLevel", "debug",
		"diagnostics.tls.rootValidity", "43800h",
		"diagnostics.tls.rootOverlap", "4380h",
		"diagnostics.tls.certValidity", "12h",
		"diagnostics.podAnnotations", map[string]any{"example.com/a": "b"},
		"diagnostics.nodeSelector", map[string]any{"kubernetes.io/os": "linux"},
		"diagnostics.tolerations", []any{map[string]any{"key": "dedicated", "operator": "Exists"}},
		"diagnostics.priorityClassName", "system-cluster-critical",
		"diagnostics.podDisruptionBudget.minAvailable", 2,
		"imagePullSecrets", []any{map[string]any{"name": "pull"}},
	))
	d := get[*appsv1.Deployment](t, m, diagnosticsName)
	spec := d.Spec.Template.Spec
	c := spec.Containers[0]
	got := map[string]any{
		"replicas": *d.Spec.Replicas, "image": c.Image, "pullPolicy": c.ImagePullPolicy,
		"listen": c.Args[0], "tls": c.Args[6:9], "logLevel": c.Args[9], "port": c.Ports[0].ContainerPort,
		"annotations": d.Spec.Template.Annotations, "nodeSelector": spec.NodeSelector, "tolerations": len(spec.Tolerations),
		"priorityClassName": spec.PriorityClassName, "imagePullSecrets": spec.ImagePullSecrets,
	}
	want := map[string]any{
		"replicas": int32(3), "image": "registry.example.com/diagnostics@sha256:" + sha256Hex, "pullPolicy": corev1.PullAlways,
		"listen": "--listen-address=:10443", "tls": []string{"--root-validity=43800h", "--root-overlap=4380h", "--cert-validity=12h"},
		"logLevel": "--log-level=debug", "port": int32(10443),
		"annotations": map[string]string{"example.com/a": "b"}, "nodeSelector": map[string]string{"kubernetes.io/os": "linux"}, "tolerations": 1,
		"priorityClassName": "system-cluster-critical", "imagePullSecrets": []corev1.LocalObjectReference{{Name: "pull"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Deployment (-want +got):\n%s", diff)
	}
	pdb := get[*policyv1.PodDisruptionBudget](t, m, diagnosticsName)
	if pdb.Spec.MinAvailable.IntValue() != 2 || !cmp.Equal(diagnosticsSelector, pdb.Spec.Selector.MatchLabels) {
		t.Errorf("PodDisruptionBudget minAvailable %v selector %v", pdb.Spec.MinAvailable, pdb.Spec.Selector.MatchLabels)
	}
	if has(render(t, values("diagnostics.replicaCount", 1)), "PodDisruptionBudget/"+diagnosticsName) {
		t.Error("one diagnostics replica gets a PodDisruptionBudget, which would block every drain")
	}
}

func TestDiagnosticsServiceAndAPIService(t *testing.T) {
	m := render(t, nil)
	svc := get[*corev1.Service](t, m, diagnosticsName)
	wantPorts := []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromString("https"), Protocol: corev1.ProtocolTCP}}
	if diff := cmp.Diff(wantPorts, svc.Spec.Ports); diff != "" {
		t.Errorf("Service ports (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(diagnosticsSelector, svc.Spec.Selector); diff != "" {
		t.Errorf("Service selector (-want +got):\n%s", diff)
	}
	api, err := m.GetUnstructured("APIService", apiServiceName)
	if err != nil {
		t.Fatal(err)
	}
	if api.GetAPIVersion() != "apiregistration.k8s.io/v1" || api.GetNamespace() != "" {
		t.Errorf("APIService %s in %q, want apiregistration.k8s.io/v1, cluster-scoped", api.GetAPIVersion(), api.GetNamespace())
	}
	// No caBundle (the server keeps it) and never insecureSkipTLSVerify: exactly these fields.
	want := map[string]any{
		"group": "diagnostics.gopherscope.io", "version": "v1alpha1",
		"groupPriorityMinimum": int64(100), "versionPriority": int64(100),
		"service": map[string]any{"name": diagnosticsName, "namespace": namespace, "port": int64(443)},
	}
	if diff := cmp.Diff(want, normalizeNumbers(api.Object["spec"])); diff != "" {
		t.Errorf("APIService spec (-want +got):\n%s", diff)
	}
}

// normalizeNumbers turns the float64 and int numbers of decoded YAML into int64.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = normalizeNumbers(e)
		}
		return out
	case float64:
		return int64(v)
	case int:
		return int64(v)
	}
	return v
}

func TestNothingSkipsTLSVerification(t *testing.T) {
	for _, vals := range []map[string]any{
		nil,
		values("tls.mode", "helm"),
		values("tls.mode", "cert-manager"),
		values("diagnostics.rbac.aggregateToView", false, "diagnostics.replicaCount", 1),
	} {
		if out := renderRaw(t, vals); bytes.Contains(bytes.ToLower(out), []byte("insecureskiptlsverify")) {
			t.Errorf("with %v the chart renders insecureSkipTLSVerify", vals)
		}
	}
}

func TestDiagnosticsCAObjectsAreCreatedEmpty(t *testing.T) {
	m := render(t, nil)
	secret := get[*corev1.Secret](t, m, diagnosticsCA)
	if secret.Namespace != namespace || secret.Type != corev1.SecretTypeOpaque || secret.Data != nil || secret.StringData != nil {
		t.Errorf("Secret %s/%s of type %q with data %v %v, want an empty Opaque Secret in the release namespace",
			secret.Namespace, secret.Name, secret.Type, secret.Data, secret.StringData)
	}
	cm := get[*corev1.ConfigMap](t, m, diagnosticsCA)
	if cm.Namespace != namespace || cm.Data != nil || cm.BinaryData != nil {
		t.Errorf("ConfigMap %s/%s with data %v %v, want no data field at all (an upgrade keeps what the server wrote)",
			cm.Namespace, cm.Name, cm.Data, cm.BinaryData)
	}
	if !slices.Equal(renderRaw(t, nil), renderRaw(t, nil)) {
		t.Error("two renders differ")
	}
}

func TestWebhookIsToldAboutDiagnosticsOnlyWhenEnabled(t *testing.T) {
	for _, tc := range []struct {
		name     string
		values   map[string]any
		wantFlag bool
		wantPort any
	}{
		{name: "enabled (the default): the CA flag and the sidecar's diagnostics port", wantFlag: true, wantPort: float64(9443)},
		{name: "another sidecar port reaches the config", values: values("diagnostics.sidecarPort", 9500), wantFlag: true, wantPort: float64(9500)},
		{name: "disabled: neither", values: values("diagnostics.enabled", false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := render(t, tc.values)
			args := get[*appsv1.Deployment](t, m, fullname).Spec.Template.Spec.Containers[0].Args
			var flags []string
			for _, a := range args {
				if strings.HasPrefix(a, "--diagnostics") {
					flags = append(flags, a)
				}
			}
			var wantFlags []string
			if tc.wantFlag {
				wantFlags = []string{"--diagnostics-ca-configmap=" + diagnosticsCA}
			}
			if diff := cmp.Diff(wantFlags, flags); diff != "" {
				t.Errorf("webhook diagnostics flags (-want +got):\n%s", diff)
			}
			var cfg struct {
				Sidecar map[string]any `json:"sidecar"`
			}
			cm := get[*corev1.ConfigMap](t, m, fullname+"-config")
			if err := yaml.Unmarshal([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
				t.Fatal(err)
			}
			if got, ok := cfg.Sidecar["diagnosticsPort"]; got != tc.wantPort || ok != (tc.wantPort != nil) {
				t.Errorf("config.yaml sidecar.diagnosticsPort = %v (set: %v), want %v", got, ok, tc.wantPort)
			}
		})
	}
}

func TestDiagnosticsDisabledRendersNoneOfIt(t *testing.T) {
	off := values("diagnostics.enabled", false)
	out := renderRaw(t, off)
	if i := bytes.Index(bytes.ToLower(out), []byte("diagnostics")); i >= 0 {
		t.Errorf("with diagnostics.enabled=false the manifest still mentions diagnostics: …%s…", out[max(0, i-200):min(len(out), i+100)])
	}
	m := render(t, off)
	for _, obj := range m.Objects {
		if obj.GetLabels()["app.kubernetes.io/component"] == "diagnostics" {
			t.Errorf("diagnostics.enabled=false renders %s/%s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName())
		}
	}
	var roles []string
	for _, r := range chart.All[*rbacv1.Role](m) {
		roles = append(roles, r.Name)
	}
	if want := []string{fullname + "-tls", fullname + "-leader-election"}; !cmp.Equal(want, roles) {
		t.Errorf("diagnostics.enabled=false renders the Roles %v, want the webhook's own %v", roles, want)
	}
}

func TestDiagnosticsBadValuesFailWithAClearMessage(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{
			name:   "a budget that could never be met is refused",
			values: values("diagnostics.replicaCount", 2, "diagnostics.podDisruptionBudget.minAvailable", 2),
			want:   []string{"diagnostics.podDisruptionBudget.minAvailable (2) must be less than diagnostics.replicaCount (2)"},
		},
		{
			name:   "the sidecar's diagnostics port may not be its metrics port",
			values: values("diagnostics.sidecarPort", 9184),
			want:   []string{"diagnostics.sidecarPort and injection.sidecar.port are both 9184"},
		},
		{
			name:   "a root validity that is not a Go duration is refused",
			values: values("diagnostics.tls.rootValidity", "10 years"),
			want:   []string{"/diagnostics/tls/rootValidity"},
		},
		{
			name:   "a certificate validity in days (not a Go duration) is refused",
			values: values("diagnostics.tls.certValidity", "1d"),
			want:   []string{"/diagnostics/tls/certValidity"},
		},
		{
			name:   "an unknown log level is refused",
			values: values("diagnostics.logLevel", "verbose"),
			want:   []string{"/diagnostics/logLevel"},
		},
		{
			name:   "an unknown diagnostics value is refused",
			values: values("diagnostics.insecureSkipTLSVerify", true),
			want:   []string{"insecureSkipTLSVerify"},
		},
	}
	r := newRenderer(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := r.Template(t.Context(), release, namespace, tc.values)
			if err == nil {
				t.Fatalf("helm template succeeded, want an error; rendered %d bytes", len(out))
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}
