package webhook

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/json"

	"github.com/gopherscope/gopherscope/config"
)

// The bad-input catalogue, pod level: invalid and hostile values of the
// per-pod annotations, sent over HTTP to the real handler. Each value is
// either valid and used as written, or replaced by the default with a
// warning that quotes it (escaped, cut) and says what was used. Nothing the
// user wrote is lost, and the sidecar's args hold validated values only.

// defaultSidecarArgs are the sidecar's args for podJSON under testConfig.
var defaultSidecarArgs = []string{
	"--target-ports=6060",
	"--expvar-path=/debug/vars",
	"--pprof-path=/debug/pprof",
	"--interval=10s",
	"--listen-address=:9184",
	"--history=1h0m0s",
}

// validArg is what each sidecar flag may carry: the injector's validation,
// restated independently. An argument matching none of these fails.
var validArg = regexp.MustCompile(`^--(?:` +
	`target-ports=[1-9][0-9]{0,4}(?:,[1-9][0-9]{0,4})*` +
	`|(?:expvar|pprof|metrics)-path=/[!-~]*` +
	`|interval=[0-9hms.]+` +
	`|listen-address=:[1-9][0-9]{0,4}` +
	`|history=[0-9hms.]+` +
	`)$`)

func TestHostileAnnotationsAreWarnedAboutAndNeverReachTheArgs(t *testing.T) {
	mib := strings.Repeat("a", 1<<20)
	tests := []struct {
		name        string
		annotations map[string]string
		// wantArgs replace defaultSidecarArgs' entries by flag name.
		wantArgs     map[string]string
		wantWarnings []string
		wantImage    string
	}{
		{
			name:         "a 1 MiB interval is quoted cut to 64 bytes",
			annotations:  map[string]string{config.AnnotationInterval: mib},
			wantWarnings: []string{`gopherscope.io/interval: "` + mib[:64] + `"… (1048576 bytes) is not a duration; using the default 10s`},
		},
		{
			name:         "an interval with a zero-width space is escaped in the warning",
			annotations:  map[string]string{config.AnnotationInterval: "10s\u200b"},
			wantWarnings: []string{`gopherscope.io/interval: "10s\u200b" is not a duration; using the default 10s`},
		},
		{
			name:         "an interval in full-width digits is not a duration",
			annotations:  map[string]string{config.AnnotationInterval: "１０s"},
			wantWarnings: []string{`gopherscope.io/interval: "１０s" is not a duration; using the default 10s`},
		},
		{
			name:         "a container name with a right-to-left override cannot spoof the warning",
			annotations:  map[string]string{config.AnnotationContainer: "app\u202e"},
			wantWarnings: []string{`gopherscope.io/container: "app\u202e" is not a container of the pod; using the first container "app"`},
		},
		{
			name:         "a port with a flag appended",
			annotations:  map[string]string{config.AnnotationPort: "6060 --listen-address=0.0.0.0:80"},
			wantWarnings: []string{`gopherscope.io/port: "6060 --listen-address=0.0.0.0:80" is not a port (1-65535); using the default 6060`},
		},
		{
			name:         "a port list with a flag as an element",
			annotations:  map[string]string{config.AnnotationPort: "6060,--target-host=evil.example"},
			wantWarnings: []string{`gopherscope.io/port: "6060,--target-host=evil.example" has "--target-host=evil.example", which is not a port (1-65535); using the default 6060`},
		},
		{
			name:         "a port with a newline and a second flag",
			annotations:  map[string]string{config.AnnotationPort: "6060\n--target-host=evil.example"},
			wantWarnings: []string{`gopherscope.io/port: "6060\n--target-host=evil.example" is not a port (1-65535); using the default 6060`},
		},
		{
			name:         "an expvar path with a space and a flag",
			annotations:  map[string]string{config.AnnotationExpvarPath: "/debug/vars --pprof-path=/x"},
			wantWarnings: []string{`gopherscope.io/expvar-path: "/debug/vars --pprof-path=/x" is not a valid path: it must be printable ASCII without spaces; using the default /debug/vars`},
		},
		{
			name:         "a pprof path with a newline and a flag",
			annotations:  map[string]string{config.AnnotationPprofPath: "/debug/pprof\n--listen-address=0.0.0.0:1"},
			wantWarnings: []string{`gopherscope.io/pprof-path: "/debug/pprof\n--listen-address=0.0.0.0:1" is not a valid path: it must be printable ASCII without spaces; using the default /debug/pprof`},
		},
		{
			name:         "an expvar path with a $(VAR) reference the kubelet would expand",
			annotations:  map[string]string{config.AnnotationExpvarPath: "/debug/$(POD_NAMESPACE)"},
			wantWarnings: []string{`gopherscope.io/expvar-path: "/debug/$(POD_NAMESPACE)" is not a valid path: it must not contain $ (Kubernetes expands $(VAR) in container arguments); using the default /debug/vars`},
		},
		{
			name:        "a metrics path with shell metacharacters is one argv element, never seen by a shell",
			annotations: map[string]string{config.AnnotationMetricsPath: "/metrics;reboot|cat&`id`"},
			wantArgs:    map[string]string{"metrics-path": "/metrics;reboot|cat&`id`"},
		},
		{
			name:         "a metrics path with a query",
			annotations:  map[string]string{config.AnnotationMetricsPath: "/metrics?x=$(id)"},
			wantWarnings: []string{`gopherscope.io/metrics-path: "/metrics?x=$(id)" is not a valid path: it must not contain a query or fragment; using none`},
		},
		{
			name:         "an image with a flag appended",
			annotations:  map[string]string{config.AnnotationSidecarImage: "ghcr.io/x/y:1 --privileged"},
			wantWarnings: []string{`gopherscope.io/sidecar-image: "ghcr.io/x/y:1 --privileged" is not a valid image reference: it has an invalid tag; using the default ghcr.io/gopherscope/sidecar:v0.0.0-test`},
		},
		{
			name:         "an image that is a flag",
			annotations:  map[string]string{config.AnnotationSidecarImage: "--entrypoint=/bin/sh"},
			wantWarnings: []string{`gopherscope.io/sidecar-image: "--entrypoint=/bin/sh" is not a valid image reference: it has an invalid repository path (lower-case letters, digits and . _ - only); using the default ghcr.io/gopherscope/sidecar:v0.0.0-test`},
		},
		{
			name:        "a valid image from another registry is used",
			annotations: map[string]string{config.AnnotationSidecarImage: "registry.example:5000/mirror/sidecar@sha256:" + strings.Repeat("0", 64)},
			wantImage:   "registry.example:5000/mirror/sidecar@sha256:" + strings.Repeat("0", 64),
		},
		{
			name:         "a CPU request of 1e400",
			annotations:  map[string]string{config.AnnotationSidecarCPU: "1e400"},
			wantWarnings: []string{`gopherscope.io/sidecar-cpu: "1e400" is not a quantity; using the default request 10m`},
		},
		{
			name:         "a memory request of NaN",
			annotations:  map[string]string{config.AnnotationSidecarMemory: "NaN"},
			wantWarnings: []string{`gopherscope.io/sidecar-memory: "NaN" is not a quantity; using the default request 24Mi`},
		},
		{
			name:         "a memory request with a command substitution",
			annotations:  map[string]string{config.AnnotationSidecarMemory: "64Mi$(reboot)"},
			wantWarnings: []string{`gopherscope.io/sidecar-memory: "64Mi$(reboot)" is not a quantity; using the default request 24Mi`},
		},
		{
			name:        "an unrelated 200 KiB annotation in Arabic and emoji is kept and not quoted",
			annotations: map[string]string{"team.example/notes": strings.Repeat("مرحبا 🐹 ", 200<<10/20)},
		},
		{
			name: "every value hostile at once: warnings in a fixed order, every default kept",
			annotations: map[string]string{
				config.AnnotationContainer: "$(POD_NAME)", config.AnnotationPort: "0", config.AnnotationExpvarPath: "vars",
				config.AnnotationPprofPath: "/../../etc", config.AnnotationMetricsPath: "/m#x", config.AnnotationInterval: "-1s",
				config.AnnotationSidecarCPU: "-1", config.AnnotationSidecarMemory: "1Ei", config.AnnotationSidecarImage: "registry.example/Upper",
			},
			wantWarnings: []string{
				`gopherscope.io/container: "$(POD_NAME)" is not a container of the pod; using the first container "app"`,
				`gopherscope.io/port: "0" is not a port (1-65535); using the default 6060`,
				`gopherscope.io/expvar-path: "vars" is not a valid path: it must start with /; using the default /debug/vars`,
				`gopherscope.io/pprof-path: "/../../etc" is not a valid path: it must not contain ..; using the default /debug/pprof`,
				`gopherscope.io/metrics-path: "/m#x" is not a valid path: it must not contain a query or fragment; using none`,
				`gopherscope.io/interval: "-1s" is shorter than the minimum 1s; using the default 10s`,
				`gopherscope.io/sidecar-cpu: "-1" is not a positive quantity; using the default request 10m`,
				`gopherscope.io/sidecar-memory: "1Ei" is more than the maximum 1Pi; using the default request 24Mi`,
				`gopherscope.io/sidecar-image: "registry.example/Upper" is not a valid image reference: it has an invalid repository path (lower-case letters, digits and . _ - only); using the default ghcr.io/gopherscope/sidecar:v0.0.0-test`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, reg := newTestHandler(t, testConfig(nil))
			raw := podJSON(tt.annotations, nil)
			start := time.Now()
			status, review := serve(t, h, reviewJSON(t, podRequest("shop", raw)))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the answer took %s", d)
			}
			resp := review.Response
			if status != http.StatusOK || !resp.Allowed || len(resp.Patch) == 0 {
				t.Fatalf("HTTP %d, allowed %v, patch %d bytes (%+v); want the injection", status, resp.Allowed, len(resp.Patch), resp.Result)
			}
			if diff := cmp.Diff(tt.wantWarnings, resp.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			pod, _ := applyPatch(t, raw, resp.Patch)
			checkNothingLost(t, raw, pod)
			sidecar := pod.Spec.InitContainers[0]
			checkArgs(t, sidecar.Args, tt.wantArgs)
			if want := orDefault(tt.wantImage, "ghcr.io/gopherscope/sidecar:"+testVersion); sidecar.Image != want {
				t.Errorf("image = %q, want %q", sidecar.Image, want)
			}
			wantReason := "injected"
			if len(tt.wantWarnings) > 0 {
				wantReason = string(ReasonWarnings)
			}
			checkDecisions(t, reg, wantReason)
		})
	}
}

// checkNothingLost asserts that the injected pod still has every container
// and annotation of the submitted one, unchanged.
func checkNothingLost(t *testing.T, raw []byte, injected *corev1.Pod) {
	t.Helper()
	var submitted corev1.Pod
	if err := json.Unmarshal(raw, &submitted); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(submitted.Spec.Containers, injected.Spec.Containers); diff != "" {
		t.Errorf("the user's containers changed (-submitted +injected):\n%s", diff)
	}
	for k, v := range submitted.Annotations {
		if got, ok := injected.Annotations[k]; !ok || got != v {
			t.Errorf("the user's annotation %s = %.80q (present: %v), want it kept as %.80q", k, got, ok, v)
		}
	}
}

// checkArgs asserts the sidecar's args: the defaults with want's values,
// each matching validArg (so none holds a rejected annotation value).
func checkArgs(t *testing.T, args []string, want map[string]string) {
	t.Helper()
	var wantArgs []string
	for _, a := range defaultSidecarArgs {
		if a == "--interval=10s" && want["metrics-path"] != "" {
			wantArgs = append(wantArgs, "--metrics-path="+want["metrics-path"])
		}
		wantArgs = append(wantArgs, a)
	}
	if diff := cmp.Diff(wantArgs, args); diff != "" {
		t.Errorf("sidecar args (-want +got):\n%s", diff)
	}
	for _, a := range args {
		if !validArg.MatchString(a) || strings.Contains(a, "$") {
			t.Errorf("sidecar arg %q is not a validated value", a)
		}
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
