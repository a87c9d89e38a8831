package cli

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/gopherscope/gopherscope/config"
)

// createNamespace creates a namespace with the inject label set to value
// (none for "").
func createNamespace(t *testing.T, client kubernetes.Interface, name, value string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if value != "" {
		ns.Labels = map[string]string{config.KeyInject: value}
	}
	if _, err := client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// labelNamespace sets the namespace's inject label.
func labelNamespace(t *testing.T, client kubernetes.Interface, name, value string) {
	t.Helper()
	patch := []byte(`{"metadata":{"labels":{"` + config.KeyInject + `":"` + value + `"}}}`)
	if _, err := client.CoreV1().Namespaces().Patch(t.Context(), name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// podSpecTemplate is a pod template of one Go app container with labels.
func podSpecTemplate(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/web:1.0"}}},
	}
}

// createReplicaSet creates a ReplicaSet of no replicas (the local API
// server runs no controllers) whose template is podSpecTemplate's.
func createReplicaSet(t *testing.T, client kubernetes.Interface, namespace, name string) *appsv1.ReplicaSet {
	t.Helper()
	labels := map[string]string{"app": "web"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podSpecTemplate(labels)},
	}
	created, err := client.AppsV1().ReplicaSets(namespace).Create(t.Context(), rs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// createPod creates a pod of podSpecTemplate (label app=web) with edits.
func createPod(t *testing.T, client kubernetes.Interface, namespace string, edits ...func(*corev1.Pod)) *corev1.Pod {
	t.Helper()
	tmpl := podSpecTemplate(map[string]string{"app": "web"})
	pod := &corev1.Pod{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec}
	pod.Namespace = namespace
	for _, edit := range edits {
		edit(pod)
	}
	created, err := client.CoreV1().Pods(namespace).Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

func withName(name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Name = name }
}

func withLabels(labels map[string]string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		for k, v := range labels {
			p.Labels[k] = v
		}
	}
}

func withAnnotations(annotations map[string]string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Annotations = annotations }
}

// withOldSidecar makes the pod one an older gopherscope injected: the
// sidecar container, the status annotation, and the version label v0.0.1.
func withOldSidecar(p *corev1.Pod) {
	p.Labels[config.LabelSidecarVersion] = "v0.0.1"
	p.Annotations = map[string]string{config.AnnotationStatus: `{"version":"v0.0.1","sidecar":"gopherscope-sidecar"}`}
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: config.SidecarContainerName, Image: "ghcr.io/gopherscope/sidecar:v0.0.1"})
}

// createLimitRange creates the LimitRange "small": at most memory per container.
func createLimitRange(t *testing.T, client kubernetes.Interface, namespace, memory string) {
	t.Helper()
	lr := &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: "small", Namespace: namespace},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memory)},
		}}},
	}
	if _, err := client.CoreV1().LimitRanges(namespace).Create(t.Context(), lr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The webhook reads LimitRanges from its informer: until it has seen
	// this one it injects a sidecar that the API server's LimitRanger then
	// refuses (CI saw it). Wait until a dry-run create of a pod is admitted.
	tmpl := podSpecTemplate(map[string]string{"app": "probe"})
	probe := &corev1.Pod{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec}
	probe.Name, probe.Namespace = "limitrange-probe", namespace
	var last error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, last = client.CoreV1().Pods(namespace).Create(t.Context(), probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); last == nil {
			return
		}
	}
	t.Fatalf("the webhook did not see LimitRange %s/small within 30 s: %v", namespace, last)
}

// recordAuditorEvent records the Event the auditor records on a bare pod
// it finds without the sidecar (auditor/events.go).
func recordAuditorEvent(t *testing.T, client kubernetes.Interface, pod *corev1.Pod, reason, note string) {
	t.Helper()
	e := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{GenerateName: pod.Name + "-", Namespace: pod.Namespace},
		EventTime:           metav1.NowMicro(),
		ReportingController: "gopherscope.io/auditor",
		ReportingInstance:   "gopherscope-auditor",
		Action:              "Audit",
		Reason:              reason,
		Note:                note,
		Type:                corev1.EventTypeWarning,
		Regarding:           corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, APIVersion: "v1"},
	}
	if _, err := client.EventsV1().Events(pod.Namespace).Create(t.Context(), e, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createWebhookService creates the chart's webhook Service and an
// EndpointSlice of it with one ready endpoint and one not ready, as the
// EndpointSlice controller (not running here) would write them.
func createWebhookService(t *testing.T, client kubernetes.Interface, namespace, name string) {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app.kubernetes.io/component": "webhook"},
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromInt32(9443)}}},
	}
	if _, err := client.CoreV1().Services(namespace).Create(t.Context(), svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name + "-x1", Namespace: namespace, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.0.0.10"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
			{Addresses: []string{"10.0.0.11"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}},
		},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](9443)}},
	}
	if _, err := client.DiscoveryV1().EndpointSlices(namespace).Create(t.Context(), slice, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}
