package config

import (
	"fmt"
	"math"

	"k8s.io/apimachinery/pkg/util/version"
)

// ParseKubeMinor returns the Kubernetes 1.x minor number of a version such as
// "1.28", "v1.29.3" or "v1.30.0-eks-1234", for ResolveNativeSidecar. A later
// major version counts as the largest minor.
func ParseKubeMinor(v string) (int, error) {
	parsed, err := version.ParseGeneric(v)
	if err != nil {
		return 0, fmt.Errorf("parse Kubernetes version %q: %w", v, err)
	}
	switch {
	case parsed.Major() > 1:
		return math.MaxInt32, nil
	case parsed.Major() < 1:
		return 0, fmt.Errorf("parse Kubernetes version %q: not a 1.x version", v)
	}
	return int(parsed.Minor()), nil
}
