package webhook

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gopherscope/gopherscope/config"
)

// KubeletVersionLookup returns the minor version of the oldest kubelet,
// which decides nativeSidecar: auto on API servers 1.29 to 1.31 (see
// config.ChooseNativeSidecar).
type KubeletVersionLookup interface {
	// OldestKubeletMinor returns the Kubernetes 1.x minor version of the
	// oldest kubelet, or config.UnknownKubelet when no node reports one.
	OldestKubeletMinor(ctx context.Context) (int, error)
}

// ClusterKubelets reads the nodes' kubelet versions from the manager's
// cache, which keeps nothing else of a node (see nodeCacheOptions).
type ClusterKubelets struct {
	// Cache is the manager's cached reader.
	Cache client.Reader
}

// OldestKubeletMinor implements KubeletVersionLookup.
func (c ClusterKubelets) OldestKubeletMinor(ctx context.Context) (int, error) {
	var nodes corev1.NodeList
	// The nodes are only read: no need to copy them out of the cache.
	if err := c.Cache.List(ctx, &nodes, client.UnsafeDisableDeepCopy); err != nil {
		return config.UnknownKubelet, fmt.Errorf("list nodes: %w", err)
	}
	return config.OldestKubeletMinor(nodes.Items), nil
}

// KubeletMinor is a KubeletVersionLookup that always answers the same: for
// tests and tools without nodes.
type KubeletMinor int

// OldestKubeletMinor implements KubeletVersionLookup.
func (k KubeletMinor) OldestKubeletMinor(context.Context) (int, error) { return int(k), nil }

// nodeCacheOptions make the manager's cache keep, of each node, its name
// and kubelet version only: all the webhook reads, in a few bytes per node
// however large the cluster's node objects are.
func nodeCacheOptions(byObject map[client.Object]cache.ByObject) map[client.Object]cache.ByObject {
	if byObject == nil {
		byObject = map[client.Object]cache.ByObject{}
	}
	byObject[&corev1.Node{}] = cache.ByObject{Transform: kubeletVersionOnly}
	return byObject
}

// kubeletVersionOnly is the cache's transform of nodes: a node reduced to
// its name, resource version and status.nodeInfo.kubeletVersion. Anything
// else passes unchanged.
func kubeletVersionOnly(obj any) (any, error) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	out := &corev1.Node{}
	out.Name = node.Name
	out.ResourceVersion = node.ResourceVersion
	out.Status.NodeInfo.KubeletVersion = node.Status.NodeInfo.KubeletVersion
	return out, nil
}
