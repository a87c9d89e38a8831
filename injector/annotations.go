package injector

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
)

// Values of the Prometheus scrape annotations when they point at the sidecar.
const prometheusScrapeTrue = "true"

// annotate sets the annotations of an injected pod: the status (the
// idempotency marker), the Prometheus scrape annotations where the user has
// set none, and kubectl's default container where absent. It returns a
// warning when the user's own Prometheus annotations keep the sidecar
// unscraped.
func annotate(pod *corev1.Pod, st *Status) []string {
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	ann := pod.Annotations
	ann[config.AnnotationStatus] = st.encode()
	if _, ok := ann[config.AnnotationDefaultContainer]; !ok {
		ann[config.AnnotationDefaultContainer] = st.Target.Container
	}

	port := strconv.Itoa(int(st.Port))
	scrape, hasScrape := ann[config.AnnotationPrometheusScrape]
	promPort, hasPort := ann[config.AnnotationPrometheusPort]
	path, hasPath := ann[config.AnnotationPrometheusPath]
	switch {
	case !hasScrape && !hasPort && !hasPath:
		ann[config.AnnotationPrometheusScrape] = prometheusScrapeTrue
		ann[config.AnnotationPrometheusPort] = port
		ann[config.AnnotationPrometheusPath] = sidecarconf.SidecarMetricsPath
	case scrape == prometheusScrapeTrue && promPort == port && path == sidecarconf.SidecarMetricsPath:
		// Already pointing at the sidecar (an injection whose container
		// was later removed, being redone): nothing to say.
	default:
		return []string{fmt.Sprintf("the pod's own prometheus.io/* annotations are left as they are, so they do not point at the sidecar (port %d, path %s); scrape it with a PodMonitor on port %s (the chart has one)",
			st.Port, sidecarconf.SidecarMetricsPath, config.SidecarPortName)}
	}
	return nil
}
