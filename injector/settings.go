package injector

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/sidecar/findings"
)

// Bounds on annotation values, beyond which a value is refused unread.
const (
	maxTargetPorts   = 16
	maxDurationLen   = 32
	maxQuantityLen   = 64
	maxContainerName = 253

	maxCPURequestCores    = 1000
	maxMemoryRequestBytes = 1 << 50 // 1Pi
)

// settings is what one pod's injection uses: the config's defaults with the
// pod's valid annotations applied.
type settings struct {
	appContainer string
	targetPorts  []int32
	expvarPath   string
	pprofPath    string
	metricsPath  string
	interval     time.Duration
	// findings are the detectors' thresholds that differ from the
	// defaults, as the sidecar's --findings flag reads them ("" for none).
	findings string
	// cpuRequest and memoryRequest override the config's requests when set.
	cpuRequest    *resource.Quantity
	memoryRequest *resource.Quantity
	image         string
	// tuneGOMEMLIMIT asks for GOMEMLIMIT on the app container (the
	// gopherscope.io/tune annotation, or the config for the pod's namespace).
	tuneGOMEMLIMIT bool
	// resources are the sidecar's requests and limits, fitted to the pod
	// and its namespace by sidecarResources.
	resources corev1.ResourceRequirements
}

// problem is one invalid annotation value: what is wrong with it and, for
// the warning, what was used instead.
type problem struct {
	key, value, issue, fallback string
}

// warning is the text for the user when the default was used instead.
func (p problem) warning() string {
	return fmt.Sprintf("%s: %s %s; using %s", p.key, quote(p.value), p.issue, p.fallback)
}

// String is the text for a denial (strict mode), where nothing was used.
func (p problem) String() string {
	return fmt.Sprintf("%s: %s %s", p.key, quote(p.value), p.issue)
}

// readSettings applies the pod's configuration annotations over cfg's
// defaults. Each value is checked on its own; an invalid one leaves the
// default in place and adds a problem. Problems come in a fixed order (that
// of the checks below), so the warnings are deterministic. The pod must have
// at least one container.
func readSettings(pod *corev1.Pod, cfg *config.Config) (settings, []problem) {
	s := settings{
		appContainer: pod.Spec.Containers[0].Name,
		targetPorts:  cfg.Target.Ports,
		expvarPath:   cfg.Target.ExpvarPath,
		pprofPath:    cfg.Target.PprofPath,
		metricsPath:  cfg.Target.MetricsPath,
		interval:     cfg.Interval.Duration,
		image:        cfg.Sidecar.Image,
	}
	var problems []problem
	check := func(key string, apply func(v string) (issue, fallback string)) {
		raw, ok := pod.Annotations[key]
		if !ok {
			return
		}
		if issue, fallback := apply(strings.TrimSpace(raw)); issue != "" {
			problems = append(problems, problem{key: key, value: raw, issue: issue, fallback: fallback})
		}
	}

	check(config.AnnotationContainer, func(v string) (string, string) {
		fallback := fmt.Sprintf("the first container %q", s.appContainer)
		if issue := containerProblem(pod, v); issue != "" {
			return issue, fallback
		}
		s.appContainer = v
		return "", ""
	})
	check(config.AnnotationPort, func(v string) (string, string) {
		ports, issue := parsePorts(v)
		if issue != "" {
			return issue, "the default " + joinPorts(s.targetPorts)
		}
		s.targetPorts = ports
		return "", ""
	})
	check(config.AnnotationExpvarPath, pathChecker(&s.expvarPath, false))
	check(config.AnnotationPprofPath, pathChecker(&s.pprofPath, false))
	check(config.AnnotationMetricsPath, pathChecker(&s.metricsPath, true))
	check(config.AnnotationInterval, func(v string) (string, string) {
		d, issue := parseInterval(v)
		if issue != "" {
			return issue, "the default " + s.interval.String()
		}
		s.interval = d
		return "", ""
	})
	check(config.AnnotationFindings, func(v string) (string, string) {
		opts, err := findings.ParseOptions(v)
		if err != nil {
			return "is not valid: " + strings.ReplaceAll(err.Error(), "\n", "; "), "the default thresholds"
		}
		s.findings = opts.String()
		return "", ""
	})
	check(config.AnnotationSidecarCPU, quantityChecker(&s.cpuRequest, cfg, corev1.ResourceCPU))
	check(config.AnnotationSidecarMemory, quantityChecker(&s.memoryRequest, cfg, corev1.ResourceMemory))
	check(config.AnnotationSidecarImage, func(v string) (string, string) {
		if issue := imageProblem(v); issue != "" {
			return "is not a valid image reference: it " + issue, "the default " + s.image
		}
		s.image = v
		return "", ""
	})
	check(config.AnnotationTune, tuneChecker(&s.tuneGOMEMLIMIT))
	return s, problems
}

// containerProblem says why name cannot be the app container, or "".
func containerProblem(pod *corev1.Pod, name string) string {
	if name == "" {
		return "is empty"
	}
	if len(name) > maxContainerName {
		return "is not a container of the pod"
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return ""
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return "is an init container, not the app's container"
		}
	}
	return "is not a container of the pod"
}

// parsePorts reads a comma-separated list of ports, keeping the first
// occurrence of each in order.
func parsePorts(v string) ([]int32, string) {
	if v == "" {
		return nil, "is empty"
	}
	if strings.Count(v, ",") >= maxTargetPorts {
		return nil, fmt.Sprintf("lists more than %d ports", maxTargetPorts)
	}
	var ports []int32
	for field := range strings.SplitSeq(v, ",") {
		field = strings.TrimSpace(field)
		n, err := strconv.ParseUint(field, 10, 16)
		if err != nil || n == 0 {
			if !strings.Contains(v, ",") {
				return nil, "is not a port (1-65535)"
			}
			return nil, fmt.Sprintf("has %s, which is not a port (1-65535)", quote(field))
		}
		if p := int32(n); !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, ""
}

// parseInterval reads a Go duration within [MinInterval, MaxInterval].
func parseInterval(v string) (time.Duration, string) {
	if len(v) > maxDurationLen {
		return 0, "is not a duration"
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return 0, "is not a duration"
	case d < config.MinInterval:
		return 0, "is shorter than the minimum " + config.MinInterval.String()
	case d > config.MaxInterval:
		return 0, "is longer than the maximum " + config.MaxInterval.String()
	}
	return d, ""
}

// pathChecker validates a path annotation into *dst. An empty value is
// valid only where the path is optional (the app's metrics path), and
// means "none".
func pathChecker(dst *string, optional bool) func(string) (string, string) {
	return func(v string) (string, string) {
		if v == "" && optional {
			*dst = ""
			return "", ""
		}
		if issue := config.PathProblem(v); issue != "" {
			fallback := "the default " + *dst
			if *dst == "" {
				fallback = "none"
			}
			return "is not a valid path: it " + issue, fallback
		}
		*dst = v
		return "", ""
	}
}

// quantityChecker validates a positive resource quantity into *dst.
func quantityChecker(dst **resource.Quantity, cfg *config.Config, name corev1.ResourceName) func(string) (string, string) {
	return func(v string) (string, string) {
		fallback := "no " + string(name) + " request"
		if def, ok := cfg.Sidecar.Resources.Requests[name]; ok {
			fallback = "the default request " + def.String()
		}
		if len(v) > maxQuantityLen || !plainQuantity(v) {
			return "is not a quantity", fallback
		}
		q, err := resource.ParseQuantity(v)
		limit := maxRequest(name)
		switch {
		case err != nil:
			return "is not a quantity", fallback
		case q.Sign() <= 0:
			return "is not a positive quantity", fallback
		case q.Cmp(limit) > 0:
			return "is more than the maximum " + limit.String(), fallback
		}
		*dst = &q
		return "", ""
	}
}

// maxRequest is the largest request an annotation may ask for: far above
// what the sidecar needs, well below what Kubernetes cannot represent.
func maxRequest(name corev1.ResourceName) resource.Quantity {
	if name == corev1.ResourceCPU {
		return *resource.NewQuantity(maxCPURequestCores, resource.DecimalSI)
	}
	return *resource.NewQuantity(maxMemoryRequestBytes, resource.BinarySI)
}

// plainQuantity accepts what resource.ParseQuantity does, except an
// exponent of more than two digits: parsing and comparing "9e999999999"
// takes minutes, a denial of service on the admission path.
func plainQuantity(v string) bool {
	i := 0
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		i++
	}
	start := i
	for i < len(v) && (v[i] >= '0' && v[i] <= '9' || v[i] == '.') {
		i++
	}
	if i == start {
		return false
	}
	suffix := v[i:]
	switch suffix {
	case "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E":
		return true
	}
	if suffix[0] != 'e' && suffix[0] != 'E' {
		return false
	}
	exponent := strings.TrimLeft(suffix[1:], "+-")
	return len(suffix)-len(exponent) <= 2 && exponent != "" && len(exponent) <= 2 &&
		strings.Trim(exponent, "0123456789") == ""
}

// joinPorts renders ports as the comma list the sidecar's flag takes.
func joinPorts(ports []int32) string {
	var b strings.Builder
	for i, p := range ports {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(int(p)))
	}
	return b.String()
}
