package auditor

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/gopherscope/gopherscope/config"
)

// fullMetadata is a pod's metadata as the API server sends it.
func fullMetadata() *metav1.PartialObjectMetadata {
	deleted := metav1.NewTime(start)
	p := podMetadata()
	p.ObjectMeta = metav1.ObjectMeta{
		Name: "web-1-a", GenerateName: "web-1-", Namespace: "shop", UID: "uid-a", ResourceVersion: "42", Generation: 1,
		CreationTimestamp: metav1.NewTime(start), DeletionTimestamp: &deleted,
		Labels: map[string]string{"app": "web", "pod-template-hash": "1", config.KeyInject: config.InjectEnabled, config.LabelComponent: "x"},
		Annotations: map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"huge":"json"}`,
			config.KeyInject: "false", config.AnnotationStatus: "{}", corev1.MirrorPodAnnotationKey: "hash", config.AnnotationPort: "8080",
		},
		OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "v1", Kind: "ConfigMap", Name: "cm", UID: "uid-cm"},
			{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", UID: "uid-web-1", Controller: ptr(true)},
		},
		Finalizers:    []string{"example.com/hold"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}
	return p
}

func TestTrimPodMetadataKeepsOnlyWhatSelectsAndNamesACandidate(t *testing.T) {
	in := fullMetadata()
	got, err := TrimPodMetadata(in)
	if err != nil {
		t.Fatal(err)
	}
	want := podMetadata()
	want.ObjectMeta = metav1.ObjectMeta{
		Name: "web-1-a", Namespace: "shop", UID: "uid-a", ResourceVersion: "42",
		CreationTimestamp: in.CreationTimestamp, DeletionTimestamp: in.DeletionTimestamp,
		Labels: map[string]string{config.KeyInject: config.InjectEnabled, config.LabelComponent: "x"},
		Annotations: map[string]string{
			config.KeyInject: "false", config.AnnotationStatus: "{}", corev1.MirrorPodAnnotationKey: "hash",
		},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", UID: "uid-web-1", Controller: ptr(true)}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("trimmed (-want +got):\n%s", diff)
	}
	again, err := TrimPodMetadata(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("trimming twice changes the result (-once +twice):\n%s", diff)
	}

	bare := podMetadata()
	bare.Name, bare.Namespace, bare.Labels = "bare", "shop", map[string]string{"app": "x"}
	got, _ = TrimPodMetadata(bare)
	if m := got.(*metav1.PartialObjectMetadata); m.Labels != nil || m.Annotations != nil || m.OwnerReferences != nil {
		t.Errorf("a pod with none of the kept keys keeps %v %v %v, want nil maps", m.Labels, m.Annotations, m.OwnerReferences)
	}
}

func TestTrimPodMetadataOnlyStripsManagedFieldsOfTypedPods(t *testing.T) {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"app": "x"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}, Spec: corev1.PodSpec{NodeName: "n"}}
	got, err := TrimPodMetadata(p)
	if err != nil {
		t.Fatal(err)
	}
	out := got.(*corev1.Pod)
	if out.ManagedFields != nil || out.Labels["app"] != "x" || out.Spec.NodeName != "n" {
		t.Errorf("typed pod after the transform: %+v", out)
	}
}

func TestMayBeUninjectedDecidesTheSameOnTrimmedMetadata(t *testing.T) {
	meta := func(mutate func(*metav1.PartialObjectMetadata)) *metav1.PartialObjectMetadata {
		p := podMetadata()
		p.Name, p.Namespace = "a", "shop"
		p.Labels = map[string]string{"app": "web"}
		p.Annotations = map[string]string{"team": "shop"}
		mutate(p)
		return p
	}
	tests := []struct {
		name        string
		pod         *metav1.PartialObjectMetadata
		nsLabels    map[string]string
		mayBeMissed bool
	}{
		{"a pod of an opted-in namespace", meta(func(*metav1.PartialObjectMetadata) {}), enabled, true},
		{"a pod opted in by label", meta(func(p *metav1.PartialObjectMetadata) { p.Labels[config.KeyInject] = config.InjectEnabled }), nil, true},
		{"a pod of an unlabelled namespace", meta(func(*metav1.PartialObjectMetadata) {}), nil, false},
		{"a pod labelled disabled in an opted-in namespace is left to the injector", meta(func(p *metav1.PartialObjectMetadata) {
			p.Labels[config.KeyInject] = config.InjectDisabled
		}), enabled, true},
		{"a terminating pod", meta(func(p *metav1.PartialObjectMetadata) { p.DeletionTimestamp = &metav1.Time{Time: start} }), enabled, false},
		{"a mirror pod", meta(func(p *metav1.PartialObjectMetadata) { p.Annotations[corev1.MirrorPodAnnotationKey] = "h" }), enabled, false},
		{"an injected pod", meta(func(p *metav1.PartialObjectMetadata) { p.Annotations[config.AnnotationStatus] = "{}" }), enabled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mayBeUninjected(tt.pod, tt.nsLabels); got != tt.mayBeMissed {
				t.Errorf("full metadata: %v, want %v", got, tt.mayBeMissed)
			}
			trimmed, _ := TrimPodMetadata(tt.pod.DeepCopy())
			if got := mayBeUninjected(trimmed.(*metav1.PartialObjectMetadata), tt.nsLabels); got != tt.mayBeMissed {
				t.Errorf("trimmed metadata: %v, want %v", got, tt.mayBeMissed)
			}
		})
	}
}

func TestPodEventsLetThroughOnlyWhatCanChangeAVerdict(t *testing.T) {
	base := func() *metav1.PartialObjectMetadata {
		p, _ := TrimPodMetadata(fullMetadata())
		m := p.(*metav1.PartialObjectMetadata)
		m.DeletionTimestamp = nil
		return m
	}
	changed := func(mutate func(*metav1.PartialObjectMetadata)) *metav1.PartialObjectMetadata {
		p := base()
		p.ResourceVersion = "43"
		mutate(p)
		return p
	}
	tests := []struct {
		name    string
		new     *metav1.PartialObjectMetadata
		tracked bool
		want    bool
	}{
		{"a status update of an uncounted pod is dropped", changed(func(*metav1.PartialObjectMetadata) {}), false, false},
		{"a status update of a counted pod passes (it may have finished)", changed(func(*metav1.PartialObjectMetadata) {}), true, true},
		{"a label change passes", changed(func(p *metav1.PartialObjectMetadata) { p.Labels[config.KeyInject] = config.InjectDisabled }), false, true},
		{"an annotation change passes", changed(func(p *metav1.PartialObjectMetadata) { delete(p.Annotations, config.AnnotationStatus) }), false, true},
		{"a deletion passes", changed(func(p *metav1.PartialObjectMetadata) { p.DeletionTimestamp = &metav1.Time{Time: start} }), false, true},
		{"an owner change passes", changed(func(p *metav1.PartialObjectMetadata) { p.OwnerReferences = nil }), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := podEvents(func(client.Object) bool { return tt.tracked })
			if got := p.Update(event.UpdateEvent{ObjectOld: base(), ObjectNew: tt.new}); got != tt.want {
				t.Errorf("update passes = %v, want %v", got, tt.want)
			}
		})
	}
	p := podEvents(func(client.Object) bool { return false })
	if !p.Create(event.CreateEvent{Object: base()}) || !p.Delete(event.DeleteEvent{Object: base()}) || !p.Generic(event.GenericEvent{Object: base()}) {
		t.Errorf("creations, deletions and resyncs must all pass")
	}
}

func TestNamespaceEventsPassOnlyAChangeOfTheInjectLabel(t *testing.T) {
	ns := func(labels map[string]string) *metav1.PartialObjectMetadata {
		m := namespaceMetadata()
		m.Name, m.Labels = "shop", labels
		return m
	}
	tests := []struct {
		name     string
		old, new map[string]string
		want     bool
	}{
		{"labelled enabled", nil, enabled, true},
		{"label removed", enabled, nil, true},
		{"enabled to disabled", enabled, map[string]string{config.KeyInject: config.InjectDisabled}, true},
		{"set to an empty value", nil, map[string]string{config.KeyInject: ""}, true},
		{"another label changes", map[string]string{"team": "a", config.KeyInject: config.InjectEnabled}, map[string]string{"team": "b", config.KeyInject: config.InjectEnabled}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := namespaceEvents().Update(event.UpdateEvent{ObjectOld: ns(tt.old), ObjectNew: ns(tt.new)}); got != tt.want {
				t.Errorf("update passes = %v, want %v", got, tt.want)
			}
		})
	}
}
