package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestCachesReadNodeVersionsAndLimitRangesFromTheAPIServer runs the
// manager's cache options against a real API server: nodes are cached as
// their kubelet version alone, and the lookups the handler uses read the
// oldest kubelet and a namespace's LimitRanges through the cache.
func TestCachesReadNodeVersionsAndLimitRangesFromTheAPIServer(t *testing.T) {
	env := startControlPlane(t)
	ctx := t.Context()
	live, err := client.New(env.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, version := range map[string]string{"node-new": "v1.31.4", "node-old": "v1.28.15"} {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/os": "linux"}},
			Spec:       corev1.NodeSpec{PodCIDR: "10.0.0.0/24"},
		}
		if err := live.Create(ctx, node); err != nil {
			t.Fatal(err)
		}
		node.Status = corev1.NodeStatus{
			Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: version, OSImage: "Debian GNU/Linux 13"},
		}
		if err := live.Status().Update(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}
	if err := live.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"b-memory", "a-cpu"} {
		lr := &corev1.LimitRange{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
			Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
				Type: corev1.LimitTypeContainer, Max: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
			}}},
		}
		if err := live.Create(ctx, lr); err != nil {
			t.Fatal(err)
		}
	}

	c, err := cache.New(env.Config, cache.Options{
		Scheme:           scheme.Scheme,
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject:         nodeCacheOptions(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	cacheCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = c.Start(cacheCtx) }()
	for _, obj := range []client.Object{&corev1.Node{}, limitRangeObject()} {
		if _, err := c.GetInformer(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !c.WaitForCacheSync(syncCtx) {
		t.Fatal("the cache did not sync")
	}

	var cached corev1.Node
	if err := c.Get(ctx, client.ObjectKey{Name: "node-old"}, &cached); err != nil {
		t.Fatal(err)
	}
	want := corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}, // set by the cache's reader
		ObjectMeta: metav1.ObjectMeta{Name: "node-old", ResourceVersion: cached.ResourceVersion},
		Status:     corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.28.15"}}}
	if diff := cmp.Diff(want, cached); diff != "" || cached.ResourceVersion == "" {
		t.Errorf("the cached node (-want +got):\n%s", diff)
	}
	if oldest, err := (ClusterKubelets{Cache: c}).OldestKubeletMinor(ctx); err != nil || oldest != 28 {
		t.Errorf("OldestKubeletMinor = %d, %v; want 28", oldest, err)
	}
	ranges, err := ClusterLimitRanges{Cache: c}.LimitRanges(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range ranges {
		names = append(names, r.Name)
	}
	if diff := cmp.Diff([]string{"a-cpu", "b-memory"}, names); diff != "" {
		t.Errorf("LimitRanges of shop, by name (-want +got):\n%s", diff)
	}
	if other, err := (ClusterLimitRanges{Cache: c}).LimitRanges(ctx, "default"); err != nil || len(other) != 0 {
		t.Errorf("LimitRanges of default = %d, %v; want none", len(other), err)
	}
}
