package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// LimitRangeLookup returns the LimitRanges of a namespace. The injector
// needs them so that the injected pod stays within them: the API server
// checks them after every mutating webhook.
type LimitRangeLookup interface {
	// LimitRanges returns the LimitRanges of the named namespace, by name.
	LimitRanges(ctx context.Context, namespace string) ([]corev1.LimitRange, error)
}

// ClusterLimitRanges reads LimitRanges from the manager's cache (an
// informer on LimitRanges, which are few and small).
type ClusterLimitRanges struct {
	// Cache is the manager's cached reader.
	Cache client.Reader
}

// LimitRanges implements LimitRangeLookup.
func (c ClusterLimitRanges) LimitRanges(ctx context.Context, namespace string) ([]corev1.LimitRange, error) {
	var list corev1.LimitRangeList
	if err := c.Cache.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		return nil, fmt.Errorf("list the LimitRanges of namespace %q: %w", namespace, err)
	}
	byName(list.Items)
	return list.Items, nil
}

// LimitRangeMap is an in-memory LimitRangeLookup: namespace name to its
// LimitRanges. It serves tests and tools that have no API server.
type LimitRangeMap map[string][]corev1.LimitRange

// LimitRanges implements LimitRangeLookup.
func (m LimitRangeMap) LimitRanges(_ context.Context, namespace string) ([]corev1.LimitRange, error) {
	out := make([]corev1.LimitRange, 0, len(m[namespace]))
	for i := range m[namespace] {
		out = append(out, *m[namespace][i].DeepCopy())
	}
	byName(out)
	return out, nil
}

// byName sorts LimitRanges by name, so that the injector's messages do not
// depend on the cache's order.
func byName(ranges []corev1.LimitRange) {
	slices.SortFunc(ranges, func(a, b corev1.LimitRange) int { return strings.Compare(a.Name, b.Name) })
}

// limitRangeObject is the object the cache keeps for LimitRanges.
func limitRangeObject() client.Object { return &corev1.LimitRange{} }
