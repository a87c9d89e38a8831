package config

import (
	"slices"
	"time"

	"github.com/gopherscope/gopherscope/config/names"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIVersion and Kind identify the configuration file format.
const (
	APIVersion = "gopherscope.io/v1alpha1"
	Kind       = "InjectionConfig"
)

// Config is the injection configuration: the webhook reads it from a YAML
// file (a mounted ConfigMap) and the CLI from --config. The zero value is not
// useful; start from Default() or Load().
type Config struct {
	metav1.TypeMeta `json:",inline"`

	// Sidecar describes the container that is injected.
	Sidecar Sidecar `json:"sidecar"`
	// Target holds the defaults for where the app's debug endpoints are.
	Target Target `json:"target"`
	// Interval is the default sampling interval (at least MinInterval).
	Interval metav1.Duration `json:"interval"`
	// NativeSidecar chooses between a native sidecar (an init container with
	// restartPolicy Always) and a regular container.
	NativeSidecar NativeSidecarMode `json:"nativeSidecar"`
	// Strict turns warnings about invalid annotation values into denials.
	Strict bool `json:"strict"`
	// AllowHostNetwork allows injecting pods that use the host's network.
	AllowHostNetwork bool `json:"allowHostNetwork"`
	// ExcludedNamespaces are never injected, whatever their labels say, in
	// addition to SystemNamespaces (which no configuration can re-enable). The
	// webhook adds its own namespace to this list at start.
	ExcludedNamespaces []string `json:"excludedNamespaces"`
	// Tune is the tuning applied to the app container (GOMEMLIMIT), for
	// pods that ask with AnnotationTune and in the namespaces it lists.
	Tune Tune `json:"tune"`

	// NativeSidecarBasis says on what NativeSidecar was resolved from auto
	// (ChooseNativeSidecar's basis, e.g. "apiserver 1.32"), recorded in the
	// status annotation; empty when it was not resolved. Not part of the file.
	NativeSidecarBasis string `json:"-"`

	// DiagnosticsCA is the PEM bundle of the roots the sidecar's diagnostics
	// port accepts client certificates from, as ParseDiagnosticsCA returns
	// it; "" when none is available. It is not part of the file: the webhook
	// reads it from the diagnostics server's ConfigMap (the offline CLI has
	// none). With Sidecar.DiagnosticsPort set and no bundle, pods are
	// injected without the diagnostics port, with a warning.
	DiagnosticsCA string `json:"-"`

	// InjectorVersion is the version of the binary doing the injection,
	// recorded in every pod's gopherscope.io/status annotation. It is not
	// part of the file: callers set it from version.Version (tests use a
	// fixed string so golden files do not change with every commit).
	InjectorVersion string `json:"-"`
}

// Sidecar is the injected container's image, port, resources and history.
type Sidecar struct {
	// Image is the sidecar image reference.
	Image string `json:"image"`
	// ImagePullPolicy is the sidecar's pull policy; empty leaves Kubernetes' default.
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
	// Port is the preferred port of the sidecar's metrics endpoint; if a
	// container of the pod already uses it, the next free port is taken.
	Port int32 `json:"port"`
	// DiagnosticsPort is the preferred port of the sidecar's diagnostics
	// port (mutual TLS, for the diagnostics API server only, named
	// SidecarDiagnosticsPortName); 0 means none. It is only injected with a
	// diagnostics CA bundle (Config.DiagnosticsCA); if a container of the pod
	// already uses it, the next free port is taken.
	DiagnosticsPort int32 `json:"diagnosticsPort,omitempty"`
	// Resources are the sidecar's requests and limits.
	Resources corev1.ResourceRequirements `json:"resources"`
	// History is how far back the sidecar's ring buffer reaches.
	History metav1.Duration `json:"history"`
}

// Target says where the app's debug endpoints are by default; pods override
// each value with an annotation.
type Target struct {
	// Ports are the app's debug ports, probed in order.
	Ports []int32 `json:"ports"`
	// ExpvarPath is the path of the expvar handler.
	ExpvarPath string `json:"expvarPath"`
	// PprofPath is the path prefix of the net/http/pprof handlers.
	PprofPath string `json:"pprofPath"`
	// MetricsPath is the path of the app's own Prometheus endpoint ("" = none).
	MetricsPath string `json:"metricsPath,omitempty"`
}

// NativeSidecarMode is the value of Config.NativeSidecar.
type NativeSidecarMode string

// The modes of NativeSidecarMode.
const (
	// NativeSidecarAuto uses a native sidecar when the cluster supports it
	// (ChooseNativeSidecar: the API server, and on 1.29 to 1.31 the oldest
	// kubelet, at Kubernetes 1.29 or later). Callers resolve it with
	// ResolveNativeSidecarFor; the injector treats an unresolved Auto as
	// Always.
	NativeSidecarAuto NativeSidecarMode = "auto"
	// NativeSidecarAlways always injects a native sidecar.
	NativeSidecarAlways NativeSidecarMode = "always"
	// NativeSidecarNever always injects a regular container.
	NativeSidecarNever NativeSidecarMode = "never"
)

// Defaults and bounds.
const (
	// DefaultSidecarImage is the sidecar image used when the config names none.
	DefaultSidecarImage = "ghcr.io/gopherscope/sidecar"
	// DefaultSidecarPort is the preferred metrics port of the sidecar.
	DefaultSidecarPort int32 = names.DefaultSidecarPort
	// DefaultTargetPort is the app's default debug port.
	DefaultTargetPort int32 = names.DefaultTargetPort
	// DefaultExpvarPath is expvar's own path.
	DefaultExpvarPath = names.DefaultExpvarPath
	// DefaultPprofPath is net/http/pprof's own prefix.
	DefaultPprofPath = names.DefaultPprofPath
	// DefaultInterval is the default sampling interval.
	DefaultInterval = names.DefaultInterval
	// MinInterval is the shortest sampling interval accepted.
	MinInterval = names.MinInterval
	// MaxInterval is the longest sampling interval accepted: beyond it the
	// sidecar would show nothing useful within its history.
	MaxInterval = time.Hour
	// DefaultHistory is how far back the sidecar's history reaches by default.
	DefaultHistory = names.DefaultHistory
	// NativeSidecarMinMinor is the first Kubernetes 1.x minor version where
	// native sidecars are on by default.
	NativeSidecarMinMinor = 29
)

// SystemNamespaces are never injected.
var SystemNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// Default returns the configuration used when no file is given. The sidecar
// image tag is the given version (the binary's own).
func Default(version string) *Config {
	return &Config{
		TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind},
		Sidecar: Sidecar{
			Image: DefaultSidecarImage + ":" + imageTag(version),
			Port:  DefaultSidecarPort,
			// Sized from the sidecar's measured steady-state RSS (BENCHMARKS.md)
			// with headroom for a burst of scrapes and the history buffer.
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("10m"),
					corev1.ResourceMemory: resource.MustParse("24Mi"),
				},
				Limits: corev1.ResourceList{
					corev1.ResourceCPU:    resource.MustParse("100m"),
					corev1.ResourceMemory: resource.MustParse("64Mi"),
				},
			},
			History: metav1.Duration{Duration: DefaultHistory},
		},
		Target: Target{
			Ports:      []int32{DefaultTargetPort},
			ExpvarPath: DefaultExpvarPath,
			PprofPath:  DefaultPprofPath,
		},
		Interval:      metav1.Duration{Duration: DefaultInterval},
		NativeSidecar: NativeSidecarAuto,
		Tune:          Tune{GOMEMLIMIT: GOMEMLIMITTuning{Percent: DefaultGOMEMLIMITPercent}},
	}
}

// imageTag turns a binary version into an image tag: "dev" builds point at
// the "latest" tag, releases at "v1.2.3".
func imageTag(version string) string {
	if version == "" || version == "dev" {
		return "latest"
	}
	return version
}

// DeepCopy returns a copy of c that shares nothing with it.
func (c *Config) DeepCopy() *Config {
	out := *c
	out.Sidecar.Resources = *c.Sidecar.Resources.DeepCopy()
	out.Target.Ports = append([]int32(nil), c.Target.Ports...)
	out.ExcludedNamespaces = append([]string(nil), c.ExcludedNamespaces...)
	out.Tune.GOMEMLIMIT.Namespaces = append([]string(nil), c.Tune.GOMEMLIMIT.Namespaces...)
	return &out
}

// ResolveNativeSidecar returns a copy of c whose NativeSidecar is Always or
// Never, for a cluster whose API server and kubelets all run Kubernetes 1.x
// minor version minor (the CLI's --kube-version): auto becomes Always from
// NativeSidecarMinMinor on.
func (c *Config) ResolveNativeSidecar(minor int) *Config {
	out := c.ResolveNativeSidecarFor(minor, minor)
	if isAuto(c.NativeSidecar) {
		out.NativeSidecarBasis = "kubernetes " + kubeVersionText(minor)
	}
	return out
}

// ResolveNativeSidecarFor returns a copy of c whose NativeSidecar is Always
// or Never as ChooseNativeSidecar decides for an API server of minor
// version serverMinor and an oldest kubelet of oldestKubeletMinor, with
// NativeSidecarBasis saying why.
func (c *Config) ResolveNativeSidecarFor(serverMinor, oldestKubeletMinor int) *Config {
	out := c.DeepCopy()
	out.NativeSidecar, out.NativeSidecarBasis = ChooseNativeSidecar(c.NativeSidecar, serverMinor, oldestKubeletMinor)
	return out
}

// IsExcludedNamespace reports whether pods in the namespace are never
// injected: a system namespace or one of ExcludedNamespaces.
func (c *Config) IsExcludedNamespace(name string) bool {
	if slices.Contains(SystemNamespaces, name) {
		return true
	}
	for _, ns := range c.ExcludedNamespaces {
		if ns == name {
			return true
		}
	}
	return false
}
