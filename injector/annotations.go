package injector

import (
	"fmt"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
)

// Values of the Prometheus scrape annotations when they point at the sidecar.
const prometheusScrapeTrue = "true"

// annotate sets the annotations of an injected pod: the Prometheus scrape
// annotations where the user has set none, kubectl's default container where
// absent, and the status (the idempotency marker). A warning that the user's
// own Prometheus annotations keep the sidecar unscraped is added to
// st.Warnings before the status is written, so the status holds it too.
func annotate(pod *corev1.Pod, st *Status) {
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	ann := pod.Annotations
	if _, ok := ann[config.AnnotationDefaultContainer]; !ok {
		ann[config.AnnotationDefaultContainer] = st.Target.Container
	}
	if w := annotatePrometheus(ann, st.Port); w != "" {
		st.Warnings = append(slices.Clip(st.Warnings), w)
	}
	ann[config.AnnotationStatus] = st.encode()
}

// annotatePrometheus points the Prometheus scrape annotations at the
// sidecar's port where the user has set none, or returns a warning that
// the user's own keep the sidecar unscraped.
func annotatePrometheus(ann map[string]string, sidecarPort int32) string {
	port := strconv.Itoa(int(sidecarPort))
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
		return fmt.Sprintf("the pod's own prometheus.io/* annotations are left as they are, so they do not point at the sidecar (port %d, path %s); scrape it with a PodMonitor on port %s (the chart has one)",
			sidecarPort, sidecarconf.SidecarMetricsPath, config.SidecarPortName)
	}
	return ""
}
