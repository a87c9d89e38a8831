package chart_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/test/chart"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// sha256Hex is a well-formed image digest.
const sha256Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

var selectorLabels = map[string]string{
	"app.kubernetes.io/name":      "gopherscope",
	"app.kubernetes.io/instance":  release,
	"app.kubernetes.io/component": "webhook",
}

func TestDeploymentPassesTheRestrictedPodSecurityStandard(t *testing.T) {
	d := get[*appsv1.Deployment](t, render(t, nil), fullname)
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	restricted := psaapi.LevelVersion{Level: psaapi.LevelRestricted, Version: psaapi.LatestVersion()}
	result := policy.AggregateCheckResults(evaluator.EvaluatePod(restricted, &d.Spec.Template.ObjectMeta, &d.Spec.Template.Spec))
	if !result.Allowed {
		t.Errorf("the webhook pod violates the restricted Pod Security Standard: %s: %s", result.ForbiddenReason(), result.ForbiddenDetail())
	}

	pod := d.Spec.Template.Spec
	wantPod := &corev1.PodSecurityContext{
		RunAsNonRoot: ptr(true), RunAsUser: ptr(config.SidecarUID), RunAsGroup: ptr(config.SidecarUID), FSGroup: ptr(config.SidecarUID),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if diff := cmp.Diff(wantPod, pod.SecurityContext); diff != "" {
		t.Errorf("pod security context (-want +got):\n%s", diff)
	}
	wantContainer := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false), ReadOnlyRootFilesystem: ptr(true),
		RunAsNonRoot: ptr(true), RunAsUser: ptr(config.SidecarUID), RunAsGroup: ptr(config.SidecarUID),
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if diff := cmp.Diff(wantContainer, pod.Containers[0].SecurityContext); diff != "" {
		t.Errorf("container security context (-want +got):\n%s", diff)
	}
}

func TestDeploymentRunsTheWebhookAsBriefed(t *testing.T) {
	m := render(t, nil)
	d := get[*appsv1.Deployment](t, m, fullname)
	if got := *d.Spec.Replicas; got != 2 {
		t.Errorf("replicas = %d, want 2", got)
	}
	if diff := cmp.Diff(selectorLabels, d.Spec.Selector.MatchLabels); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	tmpl := d.Spec.Template
	if got := tmpl.Labels[config.LabelComponent]; got != "webhook" {
		t.Errorf("pod label %s = %q, want webhook (so the webhook never injects itself)", config.LabelComponent, got)
	}
	for k, v := range selectorLabels {
		if tmpl.Labels[k] != v {
			t.Errorf("pod label %s = %q, want %q (the selector's)", k, tmpl.Labels[k], v)
		}
	}
	spec := tmpl.Spec
	if spec.AutomountServiceAccountToken == nil || !*spec.AutomountServiceAccountToken {
		t.Error("the webhook pod does not mount its token; it needs it to watch namespaces")
	}
	if spec.ServiceAccountName != fullname {
		t.Errorf("serviceAccountName = %q, want %q", spec.ServiceAccountName, fullname)
	}
	sa := get[*corev1.ServiceAccount](t, m, fullname)
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("the ServiceAccount mounts its token into every pod; only the webhook pods should")
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image != "ghcr.io/gopherscope/webhook:"+appVersion(t) {
		t.Errorf("image = %q, want the appVersion tag", c.Image)
	}
	wantArgs := []string{
		"--config=/etc/gopherscope/config/config.yaml",
		"--cert-dir=/etc/gopherscope/tls",
		"--port=9443",
		"--metrics-address=:8080",
		"--health-address=:8081",
		"--namespace=$(POD_NAMESPACE)",
		"--enable-http2=false",
		"--log-level=info",
		"--tls-self-secret=" + fullname + "-self-tls",
		"--tls-self-dns-names=" + strings.Join(serviceDNSNames, ","),
		"--tls-self-webhooks=mutating/" + fullname + ",validating/" + fullname,
		"--tls-self-ca-validity=87600h",
		"--tls-self-validity=8760h",
		"--tls-self-renew-before=2160h",
		"--tls-self-check-interval=1h",
		"--diagnostics-ca-configmap=" + fullname + "-diagnostics-ca",
		"--auditor=true",
		"--auditor-period=5m",
		"--leader-elect=true",
		"--leader-election-id=" + fullname + "-auditor",
	}
	if diff := cmp.Diff(wantArgs, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	wantEnv := []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}
	if diff := cmp.Diff(wantEnv, c.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	wantPorts := []corev1.ContainerPort{
		{Name: "https", ContainerPort: 9443, Protocol: corev1.ProtocolTCP},
		{Name: "metrics", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
		{Name: "health", ContainerPort: 8081, Protocol: corev1.ProtocolTCP},
	}
	if diff := cmp.Diff(wantPorts, c.Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	for probe, wantPath := range map[*corev1.Probe]string{c.ReadinessProbe: "/readyz", c.LivenessProbe: "/healthz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != wantPath || probe.HTTPGet.Port != intstr.FromString("health") {
			t.Errorf("probe %+v, want GET %s on port health", probe, wantPath)
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %v lack requests or limits", c.Resources)
	}
	wantMounts := []corev1.VolumeMount{
		{Name: "config", MountPath: "/etc/gopherscope/config", ReadOnly: true},
		{Name: "tls", MountPath: "/etc/gopherscope/tls", ReadOnly: true},
	}
	if diff := cmp.Diff(wantMounts, c.VolumeMounts); diff != "" {
		t.Errorf("volume mounts (-want +got):\n%s", diff)
	}
	wantVolumes := []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: fullname + "-config"}}}},
		{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: fullname + "-self-tls"}}},
	}
	if diff := cmp.Diff(wantVolumes, spec.Volumes); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	wantAffinity := &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
			Weight: 100,
			PodAffinityTerm: corev1.PodAffinityTerm{
				TopologyKey:   "kubernetes.io/hostname",
				LabelSelector: &metav1.LabelSelector{MatchLabels: selectorLabels},
			},
		}},
	}}
	if diff := cmp.Diff(wantAffinity, spec.Affinity); diff != "" {
		t.Errorf("affinity (-want +got):\n%s", diff)
	}
	if spec.PriorityClassName != "" || spec.TopologySpreadConstraints != nil {
		t.Errorf("priorityClassName %q and topologySpreadConstraints %v are set by default", spec.PriorityClassName, spec.TopologySpreadConstraints)
	}
}

func TestDeploymentOptions(t *testing.T) {
	m := render(t, values(
		"image.digest", "sha256:"+sha256Hex,
		"priorityClassName", "system-cluster-critical",
		"affinity", map[string]any{"nodeAffinity": map[string]any{}},
		"topologySpreadConstraints", []any{
			map[string]any{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"},
		},
		"webhook.logLevel", "debug",
		"webhook.port", 10443,
	))
	spec := get[*appsv1.Deployment](t, m, fullname).Spec.Template.Spec
	if want := "ghcr.io/gopherscope/webhook@sha256:" + sha256Hex; spec.Containers[0].Image != want {
		t.Errorf("image = %q, want %q (the digest wins)", spec.Containers[0].Image, want)
	}
	if spec.PriorityClassName != "system-cluster-critical" {
		t.Errorf("priorityClassName = %q", spec.PriorityClassName)
	}
	if spec.Affinity == nil || spec.Affinity.NodeAffinity == nil || spec.Affinity.PodAntiAffinity != nil {
		t.Errorf("affinity = %+v, want exactly the given one", spec.Affinity)
	}
	wantSpread := []corev1.TopologySpreadConstraint{{
		MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway,
		LabelSelector: &metav1.LabelSelector{MatchLabels: selectorLabels},
	}}
	if diff := cmp.Diff(wantSpread, spec.TopologySpreadConstraints); diff != "" {
		t.Errorf("topology spread constraints, with the pods' selector filled in (-want +got):\n%s", diff)
	}
	args := spec.Containers[0].Args
	if !slices.Contains(args, "--log-level=debug") || !slices.Contains(args, "--port=10443") {
		t.Errorf("args %v do not carry the log level and port values", args)
	}
	if got := spec.Containers[0].Ports[0].ContainerPort; got != 10443 {
		t.Errorf("https containerPort = %d, want 10443", got)
	}
}

func TestPodDisruptionBudget(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]any
		want   *intstr.IntOrString
	}{
		{name: "two replicas keep one available", values: nil, want: ptr(intstr.FromInt32(1))},
		{name: "three replicas can require two", values: values("replicaCount", 3, "podDisruptionBudget.minAvailable", 2), want: ptr(intstr.FromInt32(2))},
		{name: "one replica has no budget (it would block every drain)", values: values("replicaCount", 1)},
		{name: "a disabled budget is not rendered", values: values("podDisruptionBudget.enabled", false)},
		{name: "an out-of-cluster webhook has no budget", values: values("webhook.url", "https://127.0.0.1:1/inject", "tls.ipAddresses", []string{"127.0.0.1"})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The webhook's; the diagnostics server's is TestDiagnosticsOptions'.
			var pdbs []*policyv1.PodDisruptionBudget
			for _, p := range chart.All[*policyv1.PodDisruptionBudget](render(t, tc.values)) {
				if p.Name == fullname {
					pdbs = append(pdbs, p)
				}
			}
			if tc.want == nil {
				if len(pdbs) != 0 {
					t.Fatalf("got %d PodDisruptionBudgets, want none", len(pdbs))
				}
				return
			}
			if len(pdbs) != 1 {
				t.Fatalf("got %d PodDisruptionBudgets, want 1", len(pdbs))
			}
			if diff := cmp.Diff(tc.want, pdbs[0].Spec.MinAvailable); diff != "" {
				t.Errorf("minAvailable (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(selectorLabels, pdbs[0].Spec.Selector.MatchLabels); diff != "" {
				t.Errorf("selector (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceRoutes443ToTheWebhookPort(t *testing.T) {
	m := render(t, nil)
	svc := get[*corev1.Service](t, m, fullname)
	if diff := cmp.Diff(selectorLabels, svc.Spec.Selector); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	wantPorts := []corev1.ServicePort{
		{Name: "https", Port: 443, TargetPort: intstr.FromString("https"), Protocol: corev1.ProtocolTCP},
		{Name: "metrics", Port: 8080, TargetPort: intstr.FromString("metrics"), Protocol: corev1.ProtocolTCP},
	}
	if diff := cmp.Diff(wantPorts, svc.Spec.Ports); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
}
