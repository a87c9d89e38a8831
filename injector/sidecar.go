package injector

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
)

// Probe timings of the sidecar. The startup probe allows 30 s for the
// process to serve; the liveness probe restarts it after 30 s of silence.
const (
	startupPeriodSeconds     = 1
	startupFailureThreshold  = 30
	livenessPeriodSeconds    = 10
	livenessFailureThreshold = 3
	probeTimeoutSeconds      = 1
)

// buildSidecar returns the sidecar container that plan p describes,
// observing the container app. Its arguments are single "--name=value"
// elements (no shell ever sees them) and every value in them has been
// validated by readSettings.
func buildSidecar(p *plan, app *corev1.Container, cfg *config.Config) corev1.Container {
	s, port := &p.settings, p.port
	args := []string{
		arg(sidecarconf.FlagTargetPorts, joinPorts(s.targetPorts)),
		arg(sidecarconf.FlagExpvarPath, s.expvarPath),
		arg(sidecarconf.FlagPprofPath, s.pprofPath),
	}
	if s.metricsPath != "" {
		args = append(args, arg(sidecarconf.FlagMetricsPath, s.metricsPath))
	}
	args = append(args,
		arg(sidecarconf.FlagInterval, s.interval.String()),
		arg(sidecarconf.FlagListenAddress, ":"+strconv.Itoa(int(port))),
	)
	if p.diagnosticsPort > 0 {
		// All addresses: the diagnostics server dials the pod's IP.
		args = append(args, arg(sidecarconf.FlagDiagnosticsListenAddress, ":"+strconv.Itoa(int(p.diagnosticsPort))))
	}
	args = append(args, arg(sidecarconf.FlagHistory, cfg.Sidecar.History.Duration.String()))
	if s.findings != "" {
		args = append(args, arg(sidecarconf.FlagFindings, s.findings))
	}

	c := corev1.Container{
		Name:            config.SidecarContainerName,
		Image:           s.image,
		ImagePullPolicy: cfg.Sidecar.ImagePullPolicy,
		Args:            args,
		Ports: []corev1.ContainerPort{{
			Name:          config.SidecarPortName,
			ContainerPort: port,
			Protocol:      corev1.ProtocolTCP,
		}},
		Env: append([]corev1.EnvVar{
			fieldEnv(config.EnvPodName, "metadata.name"),
			fieldEnv(config.EnvPodNamespace, "metadata.namespace"),
			{Name: config.EnvAppContainer, Value: s.appContainer},
			memoryLimitEnv(),
		}, appEnv(app)...),
		Resources: *s.resources.DeepCopy(),
		// No readiness probe, on purpose: the sidecar must never take the
		// app out of its Service (a wrong debug port would), and a native
		// sidecar's probes must not wait for the app, which only starts
		// once the sidecar has. Both probes therefore ask /healthz, which
		// answers as soon as the sidecar serves; its /readyz ("the target
		// answered") is for people and monitoring.
		StartupProbe:             healthProbe(startupPeriodSeconds, startupFailureThreshold),
		LivenessProbe:            healthProbe(livenessPeriodSeconds, livenessFailureThreshold),
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		SecurityContext:          restrictedSecurityContext(),
	}
	if p.diagnosticsPort > 0 {
		c.Ports = append(c.Ports, corev1.ContainerPort{
			Name:          config.SidecarDiagnosticsPortName,
			ContainerPort: p.diagnosticsPort,
			Protocol:      corev1.ProtocolTCP,
		})
		c.Env = append(c.Env, corev1.EnvVar{Name: sidecarconf.EnvDiagnosticsCA, Value: p.diagnosticsCA})
	}
	if p.native {
		always := corev1.ContainerRestartPolicyAlways
		c.RestartPolicy = &always
	}
	return c
}

func arg(name, value string) string { return "--" + name + "=" + value }

func fieldEnv(name, fieldPath string) corev1.EnvVar {
	return corev1.EnvVar{
		Name:      name,
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: fieldPath}},
	}
}

// memoryLimitEnv passes the sidecar its own memory limit in bytes, from
// which it sets its Go soft memory limit.
func memoryLimitEnv() corev1.EnvVar {
	return corev1.EnvVar{
		Name: sidecarconf.EnvMemoryLimit,
		ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{
			ContainerName: config.SidecarContainerName,
			Resource:      "limits.memory",
			Divisor:       resource.MustParse("1"),
		}},
	}
}

func healthProbe(periodSeconds, failureThreshold int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path:   sidecarconf.SidecarHealthzPath,
			Port:   intstr.FromString(config.SidecarPortName),
			Scheme: corev1.URISchemeHTTP,
		}},
		TimeoutSeconds:   probeTimeoutSeconds,
		PeriodSeconds:    periodSeconds,
		SuccessThreshold: 1,
		FailureThreshold: failureThreshold,
	}
}

// restrictedSecurityContext meets the restricted Pod Security Standard.
func restrictedSecurityContext() *corev1.SecurityContext {
	uid := config.SidecarUID
	yes, no := true, false
	return &corev1.SecurityContext{
		RunAsNonRoot:             &yes,
		RunAsUser:                &uid,
		RunAsGroup:               &uid,
		ReadOnlyRootFilesystem:   &yes,
		AllowPrivilegeEscalation: &no,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}
