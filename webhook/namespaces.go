package webhook

import (
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NamespaceLookup returns the labels of a namespace. The handler needs them
// to apply the namespace's opt-in label.
type NamespaceLookup interface {
	// NamespaceLabels returns the labels of the named namespace.
	NamespaceLabels(ctx context.Context, name string) (map[string]string, error)
}

// ClusterNamespaces reads namespace metadata from the manager's cache and,
// when the cache does not know a namespace yet (one created an instant before
// its first pod), from the API server directly.
type ClusterNamespaces struct {
	// Cache is the manager's cached reader (an informer on namespace metadata).
	Cache client.Reader
	// Live reads from the API server; nil disables the fallback.
	Live client.Reader
}

// NamespaceLabels implements NamespaceLookup.
func (c ClusterNamespaces) NamespaceLabels(ctx context.Context, name string) (map[string]string, error) {
	ns := namespaceMetadata()
	err := c.Cache.Get(ctx, client.ObjectKey{Name: name}, ns)
	if apierrors.IsNotFound(err) && c.Live != nil {
		err = c.Live.Get(ctx, client.ObjectKey{Name: name}, ns)
	}
	if err != nil {
		return nil, fmt.Errorf("get namespace %q: %w", name, err)
	}
	return ns.Labels, nil
}

// namespaceMetadata is the object the cache keeps for a namespace: its
// metadata only, which is all the handler reads.
func namespaceMetadata() *metav1.PartialObjectMetadata {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return ns
}

// NamespaceMap is an in-memory NamespaceLookup: namespace name to labels. A
// namespace that is not in the map is not found. It serves tests and tools
// that have no API server.
type NamespaceMap map[string]map[string]string

// NamespaceLabels implements NamespaceLookup.
func (m NamespaceMap) NamespaceLabels(_ context.Context, name string) (map[string]string, error) {
	labels, ok := m[name]
	if !ok {
		return nil, apierrors.NewNotFound(corev1.Resource("namespaces"), name)
	}
	return maps.Clone(labels), nil
}
