package injector

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
)

// appRuntimeEnv maps the Go runtime variables of the app container that
// the sidecar is told of to the sidecar's variable for each, in order.
var appRuntimeEnv = []struct{ app, sidecar string }{
	{config.EnvGOMEMLIMIT, sidecarconf.EnvAppGOMEMLIMIT},
	{"GOGC", sidecarconf.EnvAppGOGC},
	{"GOMAXPROCS", sidecarconf.EnvAppGOMAXPROCS},
}

// appEnv is the sidecar's environment that describes the app container:
// its memory limit in bytes and CPU limit in millicores from the downward
// API, each only where the container sets that limit (without one the
// downward API gives the node's allocatable, which is no limit), and its
// GOMEMLIMIT, GOGC and GOMAXPROCS where its env sets them to a literal
// value. A value with a $ is left out: the kubelet would expand $(VAR) in
// it against the sidecar's environment, not the app's.
func appEnv(app *corev1.Container) []corev1.EnvVar {
	var env []corev1.EnvVar
	if _, ok := app.Resources.Limits[corev1.ResourceMemory]; ok {
		env = append(env, limitEnv(sidecarconf.EnvAppMemoryLimit, app.Name, "limits.memory", "1"))
	}
	if _, ok := app.Resources.Limits[corev1.ResourceCPU]; ok {
		env = append(env, limitEnv(sidecarconf.EnvAppCPULimitMillis, app.Name, "limits.cpu", "1m"))
	}
	for _, v := range appRuntimeEnv {
		if value, ok := literalEnv(app, v.app); ok && !strings.Contains(value, "$") {
			env = append(env, corev1.EnvVar{Name: v.sidecar, Value: value})
		}
	}
	return env
}

// limitEnv is a variable holding a limit of container, in units of divisor.
func limitEnv(name, container, limit, divisor string) corev1.EnvVar {
	return corev1.EnvVar{
		Name: name,
		ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{
			ContainerName: container,
			Resource:      limit,
			Divisor:       resource.MustParse(divisor),
		}},
	}
}

// literalEnv is the value c's env gives name, when it is a literal (not
// valueFrom). As the kubelet does, the last entry of a name wins.
func literalEnv(c *corev1.Container, name string) (string, bool) {
	for i := len(c.Env) - 1; i >= 0; i-- {
		if e := c.Env[i]; e.Name == name {
			return e.Value, e.ValueFrom == nil
		}
	}
	return "", false
}
