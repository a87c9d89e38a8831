package config

import (
	"fmt"
	"math"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/version"
)

// ParseKubeMinor returns the Kubernetes 1.x minor number of a version such as
// "1.28", "v1.29.3" or "v1.30.0-eks-1234", for ChooseNativeSidecar. A later
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

// NativeSidecarSkewFreeMinor is the first API server minor version whose
// kubelets all support native sidecars: the version skew policy lets a
// kubelet be up to three minor versions older than its API server, so
// kubelets of an API server 1.32 are at least 1.29.
const NativeSidecarSkewFreeMinor = NativeSidecarMinMinor + 3

// UnknownKubelet stands for "no kubelet version known" in ChooseNativeSidecar.
const UnknownKubelet = -1

// NeedsKubeletVersion reports whether ChooseNativeSidecar looks at the oldest
// kubelet for mode and an API server of minor version serverMinor: for auto
// on API servers 1.29 to 1.31, whose kubelets may be older than 1.29.
func NeedsKubeletVersion(mode NativeSidecarMode, serverMinor int) bool {
	return isAuto(mode) && serverMinor >= NativeSidecarMinMinor && serverMinor < NativeSidecarSkewFreeMinor
}

// ChooseNativeSidecar decides between a native sidecar (Always) and a
// regular container (Never) for mode, an API server of Kubernetes 1.x minor
// version serverMinor and the oldest kubelet's minor version (UnknownKubelet
// when none is known), and says on what basis, for the status annotation:
//
//	always, never                    as configured ("config always")
//	auto, API server 1.32 or later   native ("apiserver 1.32")
//	auto, API server before 1.29     regular ("apiserver 1.28")
//	auto, API server 1.29 to 1.31    native if the oldest kubelet is 1.29 or
//	                                 later ("oldest kubelet 1.28"); regular
//	                                 when no kubelet version is known
//
// A native sidecar on a kubelet before 1.29 is an init container that never
// ends, so the app never starts: when in doubt, a regular container.
func ChooseNativeSidecar(mode NativeSidecarMode, serverMinor, oldestKubeletMinor int) (NativeSidecarMode, string) {
	switch {
	case !isAuto(mode):
		return mode, "config " + string(mode)
	case serverMinor >= NativeSidecarSkewFreeMinor:
		return NativeSidecarAlways, "apiserver " + kubeVersionText(serverMinor)
	case serverMinor < NativeSidecarMinMinor:
		return NativeSidecarNever, "apiserver " + kubeVersionText(serverMinor)
	case oldestKubeletMinor == UnknownKubelet:
		return NativeSidecarNever, "apiserver " + kubeVersionText(serverMinor) + ", no kubelet version known"
	case oldestKubeletMinor >= NativeSidecarMinMinor:
		return NativeSidecarAlways, "oldest kubelet " + kubeVersionText(oldestKubeletMinor)
	default:
		return NativeSidecarNever, "oldest kubelet " + kubeVersionText(oldestKubeletMinor)
	}
}

func isAuto(mode NativeSidecarMode) bool { return mode == NativeSidecarAuto || mode == "" }

// kubeVersionText renders a minor version of ParseKubeMinor as "1.29".
func kubeVersionText(minor int) string {
	if minor == math.MaxInt32 {
		return "2.0 or later"
	}
	return "1." + strconv.Itoa(minor)
}

// OldestKubeletMinor is the smallest minor version the nodes' kubelets
// report, or UnknownKubelet for none. A version that does not parse
// (an unstamped development build) counts as current, as the API server's
// does (the webhook's serverMinorVersion). Each distinct version is parsed once.
func OldestKubeletMinor(nodes []corev1.Node) int {
	oldest := UnknownKubelet
	parsed := map[string]bool{}
	for i := range nodes {
		v := nodes[i].Status.NodeInfo.KubeletVersion
		if parsed[v] {
			continue
		}
		parsed[v] = true
		minor, err := ParseKubeMinor(v)
		if err != nil {
			continue
		}
		if oldest == UnknownKubelet || minor < oldest {
			oldest = minor
		}
	}
	return oldest
}
