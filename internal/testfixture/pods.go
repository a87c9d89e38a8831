package testfixture

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

// Sizes of the pods.
const (
	// TypicalEnvVars is the number of env vars of TypicalPod (over its two containers).
	TypicalEnvVars = 20
	// LargeContainers and LargeEnvVars shape LargePod: 20 containers with
	// 2,000 env vars between them.
	LargeContainers = 20
	LargeEnvVars    = 2000
	// LargeTargetBytes is the size LargePod's JSON encoding aims at (1 MiB).
	LargeTargetBytes = 1 << 20
)

// TypicalPod is a Deployment's pod as a mutating webhook receives it at
// CREATE: two containers (the Go app and a proxy) with 20 env vars between
// them, probes, resources, the service-account token volume and every
// default the API server has filled in by then.
func TypicalPod(namespace string) *corev1.Pod {
	pod := basePod(namespace)
	pod.Spec.Containers = []corev1.Container{
		container("app", "registry.example.com/shop/web:1.42.0", TypicalEnvVars/2, 24),
		container("proxy", "registry.example.com/infra/proxy:2.3.1", TypicalEnvVars/2, 24),
	}
	app := &pod.Spec.Containers[0]
	app.Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}
	probe := &corev1.Probe{
		ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http"), Scheme: corev1.URISchemeHTTP}},
		TimeoutSeconds:   1,
		PeriodSeconds:    10,
		SuccessThreshold: 1,
		FailureThreshold: 3,
	}
	app.ReadinessProbe, app.LivenessProbe = probe, probe.DeepCopy()
	return pod
}

// LargePod is a pod of LargeContainers containers with LargeEnvVars env
// vars between them, about LargeTargetBytes once encoded: the kind of pod
// that took other injectors seconds.
func LargePod(namespace string) *corev1.Pod {
	pod := basePod(namespace)
	perContainer := LargeEnvVars / LargeContainers
	// Each env var takes its value plus about 40 bytes of JSON around it; the
	// rest of the pod is a few KiB.
	valueLen := LargeTargetBytes/LargeEnvVars - 40
	for i := range LargeContainers {
		pod.Spec.Containers = append(pod.Spec.Containers,
			container(fmt.Sprintf("worker-%02d", i), "registry.example.com/batch/worker:3.0.0", perContainer, valueLen))
	}
	return pod
}

// InjectedPod is TypicalPod as the webhook returns it: injected with the
// default configuration of the given version. A webhook sees it again on
// reinvocation, and must leave it as it is.
func InjectedPod(namespace, version string) (*corev1.Pod, error) {
	cfg := config.Default(version)
	cfg.InjectorVersion = version
	ns := injector.Namespace{Name: namespace, Labels: map[string]string{config.KeyInject: config.InjectEnabled}}
	pod, _, decision := injector.Inject(TypicalPod(namespace), ns, cfg)
	if decision.Action != injector.ActionInject {
		return nil, fmt.Errorf("inject the typical pod: decision %s (%s)", decision.Action, decision.Message)
	}
	return pod, nil
}

// basePod is the metadata and pod-level defaults of a ReplicaSet's pod.
func basePod(namespace string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "web-7d9f8b6c5-",
			Namespace:    namespace,
			Labels:       map[string]string{"app.kubernetes.io/name": "web", "pod-template-hash": "7d9f8b6c5"},
			Annotations:  map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-11-20T09:14:03Z"},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d9f8b6c5",
				UID: "0f7f3a52-8c1e-4b7a-9d3e-6a2b5c4d1e0f", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{{Name: "kube-api-access-x7k2p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr.To[int64](3607), Path: "token"}},
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
						Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
					{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
						Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
				},
				DefaultMode: ptr.To[int32](0o644),
			}}}},
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: ptr.To[int64](30),
			DNSPolicy:                     corev1.DNSClusterFirst,
			ServiceAccountName:            "web",
			DeprecatedServiceAccount:      "web",
			SecurityContext:               &corev1.PodSecurityContext{},
			SchedulerName:                 corev1.DefaultSchedulerName,
			Tolerations: []corev1.Toleration{
				{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
				{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)},
			},
			Priority:           ptr.To[int32](0),
			EnableServiceLinks: ptr.To(true),
			PreemptionPolicy:   ptr.To(corev1.PreemptLowerPriority),
		},
	}
}

// container is a defaulted container with envVars env vars whose values
// are valueLen bytes long.
func container(name, image string, envVars, valueLen int) corev1.Container {
	env := make([]corev1.EnvVar, envVars)
	for i := range env {
		value := fmt.Sprintf("%s-value-%04d-", name, i)
		if pad := valueLen - len(value); pad > 0 {
			value += strings.Repeat("x", pad)
		}
		env[i] = corev1.EnvVar{Name: fmt.Sprintf("%s_SETTING_%04d", strings.ToUpper(strings.ReplaceAll(name, "-", "_")), i), Value: value}
	}
	return corev1.Container{
		Name:  name,
		Image: image,
		Env:   env,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
		},
		VolumeMounts:             []corev1.VolumeMount{{Name: "kube-api-access-x7k2p", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}},
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy:          corev1.PullIfNotPresent,
	}
}
