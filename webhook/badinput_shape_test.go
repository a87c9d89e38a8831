package webhook

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/config"
)

// The bad-input catalogue, pod shape: pods the API server may send that are
// missing parts, and pods near its size limit.

func TestPodsMissingMetadataAreInjectedWithAPatchThatApplies(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{name: "no metadata at all", raw: `{"spec":{"containers":[{"name":"app","image":"web"}]}}`},
		{name: "metadata null", raw: `{"metadata":null,"spec":{"containers":[{"name":"app","image":"web"}]}}`},
		{name: "empty metadata, no name, no namespace", raw: `{"metadata":{},"spec":{"containers":[{"name":"app","image":"web"}]}}`},
		{name: "annotations null", raw: `{"metadata":{"annotations":null},"spec":{"containers":[{"name":"app","image":"web"}]}}`},
		{name: "no apiVersion or kind", raw: `{"metadata":{"generateName":"web-"},"spec":{"containers":[{"name":"app"}]}}`},
		{name: "a container without a name", raw: `{"metadata":{"name":"web"},"spec":{"containers":[{"image":"web"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, reg := newTestHandler(t, testConfig(nil))
			status, review := serve(t, h, withObject(tt.raw))
			resp := review.Response
			if status != http.StatusOK || !resp.Allowed || len(resp.Patch) == 0 {
				t.Fatalf("HTTP %d, allowed %v, patch %s, result %+v; want the injection", status, resp.Allowed, resp.Patch, resp.Result)
			}
			pod, _ := applyPatch(t, []byte(tt.raw), resp.Patch)
			if pod.Annotations[config.AnnotationStatus] == "" || len(pod.Spec.InitContainers) != 1 {
				t.Errorf("the patched pod has status %q and init containers %d, want the injection", pod.Annotations[config.AnnotationStatus], len(pod.Spec.InitContainers))
			}
			checkNothingLost(t, []byte(tt.raw), pod)
			checkDecisions(t, reg, "injected")
		})
	}
}

// TestAPodNearTheAPIServersSizeLimitIsInjectedWhole sends a pod of about
// 2.9 MiB (the API server refuses requests over 3 MiB): it is injected in
// well under the API server's 5 s timeout, with a patch that only adds and
// does not repeat the pod.
func TestAPodNearTheAPIServersSizeLimitIsInjectedWhole(t *testing.T) {
	var containers []any
	value := strings.Repeat("x", 10<<10)
	for c := range 10 {
		var env []any
		for e := range 27 {
			env = append(env, map[string]any{"name": fmt.Sprintf("VAR_%d", e), "value": value})
		}
		containers = append(containers, map[string]any{"name": fmt.Sprintf("app-%d", c), "image": "example.com/web:1.0", "env": env})
	}
	pod := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"generateName": "huge-", "namespace": "shop", "annotations": map[string]any{
			"team.example/notes": strings.Repeat("n", 250<<10),
		}},
		"spec": map[string]any{"containers": containers},
	}
	raw := mustJSON(t, pod)
	if n := len(raw); n < 2800<<10 || n >= 3<<20 {
		t.Fatalf("the pod is %d bytes, want 2.8 to 3 MiB", n)
	}
	h, reg := newTestHandler(t, testConfig(nil))
	start := time.Now()
	status, review := serve(t, h, reviewJSON(t, podRequest("shop", raw)))
	took := time.Since(start)
	t.Logf("a %.2f MiB pod: answered in %s with a %d byte patch", float64(len(raw))/(1<<20), took, len(review.Response.Patch))
	if took > 2*time.Second {
		t.Errorf("the answer took %s, want well under the API server's 5 s timeout", took)
	}
	resp := review.Response
	if status != http.StatusOK || !resp.Allowed || len(resp.Patch) == 0 {
		t.Fatalf("HTTP %d, allowed %v, result %+v; want the injection", status, resp.Allowed, resp.Result)
	}
	if len(resp.Patch) > 8<<10 {
		t.Errorf("the patch is %d bytes, want only the sidecar and annotations (< 8 KiB)", len(resp.Patch))
	}
	var ops []string
	for _, op := range decodePatch(t, resp.Patch) {
		ops = append(ops, op.Op+" "+op.Path)
	}
	want := []string{"add /metadata/annotations/gopherscope.io~1status", "add /metadata/annotations/kubectl.kubernetes.io~1default-container",
		"add /metadata/annotations/prometheus.io~1path", "add /metadata/annotations/prometheus.io~1port",
		"add /metadata/annotations/prometheus.io~1scrape", "add /metadata/labels", "add /spec/initContainers"}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("patch operations (-want +got):\n%s", diff)
	}
	injected, _ := applyPatch(t, raw, resp.Patch)
	checkNothingLost(t, raw, injected)
	checkDecisions(t, reg, "injected")
}

// TestStrictModeDenialsQuoteHostileValuesSafely checks the denial text of
// strict mode: every bad value escaped and cut, the whole message short.
func TestStrictModeDenialsQuoteHostileValuesSafely(t *testing.T) {
	h, reg := newTestHandler(t, testConfig(func(c *config.Config) { c.Strict = true }))
	raw := podJSON(map[string]string{
		config.AnnotationInterval:   strings.Repeat("9", 1<<20),
		config.AnnotationContainer:  "app\u202e\n--x",
		config.AnnotationExpvarPath: "/$(id)",
	}, nil)
	_, review := serve(t, h, reviewJSON(t, podRequest("shop", raw)))
	resp := review.Response
	if resp.Allowed || resp.Result == nil || resp.Result.Code != http.StatusForbidden || len(resp.Patch) != 0 {
		t.Fatalf("allowed %v, result %+v, patch %s; want a 403 denial without a patch", resp.Allowed, resp.Result, resp.Patch)
	}
	want := `invalid gopherscope annotations (strict mode): ` +
		`gopherscope.io/container: "app\u202e\n--x" is not a container of the pod; ` +
		`gopherscope.io/expvar-path: "/$(id)" is not a valid path: it must not contain $ (Kubernetes expands $(VAR) in container arguments); ` +
		`gopherscope.io/interval: "` + strings.Repeat("9", 64) + `"… (1048576 bytes) is not a duration`
	if resp.Result.Message != want {
		t.Errorf("message =\n%q\nwant\n%q", resp.Result.Message, want)
	}
	checkDecisions(t, reg, "invalid-annotations")
}
