package webhook

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/gopherscope/gopherscope/config"
)

func TestNodeCacheKeepsOnlyTheKubeletVersion(t *testing.T) {
	full := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: "node-1", ResourceVersion: "42", UID: "0b3c",
			Labels:        map[string]string{"kubernetes.io/os": "linux", "topology.kubernetes.io/zone": "a"},
			Annotations:   map[string]string{"node.alpha.kubernetes.io/ttl": "0"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubelet"}},
		},
		Spec: corev1.NodeSpec{PodCIDR: "10.0.0.0/24", Taints: []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{
			Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8")},
			Images:   []corev1.ContainerImage{{Names: []string{"example.com/big:1"}, SizeBytes: 1 << 30}},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.28.9", OSImage: "Debian", KernelVersion: "6.1"},
		},
	}
	got, err := kubeletVersionOnly(full)
	if err != nil {
		t.Fatal(err)
	}
	want := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1", ResourceVersion: "42"},
		Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.28.9"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cached node (-want +got):\n%s", diff)
	}
	if full.Status.NodeInfo.OSImage != "Debian" || len(full.Status.Images) != 1 {
		t.Errorf("the transform changed the node it was given")
	}
	tombstone := toolscache.DeletedFinalStateUnknown{Key: "node-1", Obj: full}
	if got, err := kubeletVersionOnly(tombstone); err != nil || !cmp.Equal(got, tombstone) {
		t.Errorf("a tombstone came out as %v, %v; want it unchanged", got, err)
	}
	options := nodeCacheOptions(nil)
	if len(options) != 1 {
		t.Fatalf("cache options for %d kinds, want nodes only", len(options))
	}
	for obj, byObject := range options {
		if _, ok := obj.(*corev1.Node); !ok || byObject.Transform == nil {
			t.Errorf("cache options for %T with transform %v, want nodes with kubeletVersionOnly", obj, byObject.Transform != nil)
		}
	}
}

func TestOldestKubeletMinor(t *testing.T) {
	node := func(v string) corev1.Node {
		return corev1.Node{Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: v}}}
	}
	tests := []struct {
		name  string
		nodes []corev1.Node
		want  int
	}{
		{name: "no node knows no version", want: config.UnknownKubelet},
		{name: "the oldest of several", nodes: []corev1.Node{node("v1.31.2"), node("v1.28.15"), node("v1.30.0-eks-1234"), node("v1.31.2")}, want: 28},
		{name: "an unstamped build counts as current", nodes: []corev1.Node{node("v0.0.0-master+$Format:%H$"), node("v1.30.1")}, want: 30},
		{name: "a node that reports nothing yet is left out", nodes: []corev1.Node{node(""), node("v1.29.0")}, want: 29},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := config.OldestKubeletMinor(tt.nodes); got != tt.want {
				t.Errorf("oldestKubeletMinor = %d, want %d", got, tt.want)
			}
		})
	}
}
