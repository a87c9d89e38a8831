package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	jsonpatch5 "github.com/evanphx/json-patch/v5"
	"github.com/google/go-cmp/cmp"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

// goldenDir holds the injector's golden cases (see injector/golden_test.go):
// per case pod.yaml, namespace.yaml, an optional config.yaml, an optional
// diagnostics-ca.pem, want.yaml when the pod changes, and decision.yaml.
var goldenDir = filepath.Join("..", "injector", "testdata")

// handlerCase is one injector golden case, as the webhook receives it.
type handlerCase struct {
	name string
	// typed is the pod encoded from the API types, as the API server sends
	// it; asWritten is pod.yaml as JSON, without the typed encoding's empty
	// fields (resources: {}, status: {}), as an older or newer server might.
	typed, asWritten []byte
	namespace        string
	labels           map[string]string
	limitRanges      []corev1.LimitRange
	cfg              *config.Config
	// diagnosticsCA is diagnostics-ca.pem as the DiagnosticsCAReader hands
	// it to the provider; "" without one.
	diagnosticsCA string
	// want is want.yaml as generic JSON; nil when the pod is admitted as it is.
	want     any
	action   injector.Action
	warnings []string
}

// TestGoldenCasesThroughTheHandler sends every injector golden case through
// the webhook as an AdmissionReview, applies the returned JSON patch to the
// pod that was sent, and checks that the result is the case's expected pod;
// the same request answered 20 times gives byte-identical patches. Offline
// cases are the CLI's: the webhook always knows the namespace.
func TestGoldenCasesThroughTheHandler(t *testing.T) {
	for _, c := range loadHandlerCases(t) {
		t.Run(c.name, func(t *testing.T) {
			provider := NewConfigProvider(c.cfg)
			provider.SetDiagnosticsCA(c.diagnosticsCA)
			hook := &admission.Webhook{Handler: &PodInjector{
				Config:      provider,
				Namespaces:  NamespaceMap{c.namespace: c.labels},
				LimitRanges: LimitRangeMap{c.namespace: c.limitRanges},
			}}
			t.Run("typed encoding", func(t *testing.T) {
				patched := checkGoldenAnswer(t, hook, c, c.typed)
				if c.want == nil {
					return
				}
				var got any
				if err := json.Unmarshal(patched, &got); err != nil {
					t.Fatalf("decode the patched pod: %v", err)
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("patched pod (-want.yaml +got):\n%s", diff)
				}
			})
			t.Run("as written", func(t *testing.T) {
				patched := checkGoldenAnswer(t, hook, c, c.asWritten)
				if c.want == nil {
					return
				}
				// The empty fields the typed encoding adds are no part of
				// the patch, so compare the pods as the API types read them.
				if diff := cmp.Diff(c.want, typedJSON(t, patched)); diff != "" {
					t.Errorf("patched pod (-want.yaml +got):\n%s", diff)
				}
			})
		})
	}
}

// checkGoldenAnswer checks the verdict and warnings of c's answer for raw
// and that 20 answers carry the same patch, and returns raw patched.
func checkGoldenAnswer(t *testing.T, hook http.Handler, c handlerCase, raw []byte) []byte {
	t.Helper()
	resp := admitReview(t, hook, c.namespace, raw)
	if wantAllowed := c.action != injector.ActionDeny; resp.Allowed != wantAllowed {
		t.Errorf("allowed = %v, want %v (decision %s; result %+v)", resp.Allowed, wantAllowed, c.action, resp.Result)
	}
	if diff := cmp.Diff(c.warnings, resp.Warnings); diff != "" {
		t.Errorf("warnings (-decision.yaml +got):\n%s", diff)
	}
	for i := range 19 {
		if again := admitReview(t, hook, c.namespace, raw); !bytes.Equal(again.Patch, resp.Patch) {
			t.Fatalf("answer %d: patch\n%s\ndiffers from the first\n%s", i+2, again.Patch, resp.Patch)
		}
	}
	if c.want == nil {
		if len(resp.Patch) != 0 || resp.PatchType != nil {
			t.Errorf("patch = %s (type %v), want none: the pod is admitted as it is", resp.Patch, resp.PatchType)
		}
		return raw
	}
	if resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("patch type = %v, want JSONPatch", resp.PatchType)
	}
	patched, err := applyJSONPatch(raw, resp.Patch)
	if err != nil {
		t.Fatalf("%v\npatch: %s", err, resp.Patch)
	}
	return patched
}

// applyJSONPatch applies a JSON patch to doc, as the API server does.
func applyJSONPatch(doc, patch []byte) ([]byte, error) {
	p, err := jsonpatch5.DecodePatch(patch)
	if err != nil {
		return nil, fmt.Errorf("decode the patch: %w", err)
	}
	out, err := p.Apply(doc)
	if err != nil {
		return nil, fmt.Errorf("apply the patch: %w", err)
	}
	return out, nil
}

// admitReview posts raw as the pod of a CREATE AdmissionReview in namespace
// ns to hook and returns the answer's response.
func admitReview(t *testing.T, hook http.Handler, ns string, raw []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, Path, bytes.NewReader(reviewJSON(t, podRequest(ns, raw))))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	hook.ServeHTTP(rec, req)
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(rec.Body.Bytes(), &review); err != nil || review.Response == nil {
		t.Fatalf("the answer %q is not an AdmissionReview with a response: %v", rec.Body.Bytes(), err)
	}
	return review.Response
}

// typedJSON is a pod's JSON as the API types read and write it, as generic JSON.
func typedJSON(t *testing.T, data []byte) any {
	t.Helper()
	pod := &corev1.Pod{}
	if err := json.Unmarshal(data, pod); err != nil {
		t.Fatalf("decode the pod: %v", err)
	}
	return toJSONValue(t, pod)
}

// loadHandlerCases reads every golden case the webhook can receive.
func loadHandlerCases(t *testing.T) []handlerCase {
	t.Helper()
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatalf("list the golden cases: %v", err)
	}
	var cases []handlerCase
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "fuzz" {
			continue
		}
		dir := filepath.Join(goldenDir, e.Name())
		var ns struct {
			Name        string              `json:"name"`
			Labels      map[string]string   `json:"labels"`
			LimitRanges []corev1.LimitRange `json:"limitRanges"`
			Offline     bool                `json:"offline"`
		}
		readGoldenYAML(t, filepath.Join(dir, "namespace.yaml"), &ns)
		if ns.Offline {
			continue
		}
		c := handlerCase{name: e.Name(), namespace: ns.Name, labels: ns.Labels, limitRanges: ns.LimitRanges}
		var decision struct {
			Decision injector.Decision `json:"decision"`
			Warnings []string          `json:"warnings"`
		}
		readGoldenYAML(t, filepath.Join(dir, "decision.yaml"), &decision)
		c.action, c.warnings = decision.Decision.Action, decision.Warnings
		c.asWritten = readGoldenJSON(t, filepath.Join(dir, "pod.yaml"))
		pod := &corev1.Pod{}
		if err := json.Unmarshal(c.asWritten, pod); err != nil {
			t.Fatalf("%s: decode the pod: %v", dir, err)
		}
		c.typed = mustJSON(t, pod)
		c.cfg = goldenConfig(t, filepath.Join(dir, "config.yaml"))
		if ca := filepath.Join(dir, "diagnostics-ca.pem"); fileExists(t, ca) {
			data, err := os.ReadFile(ca)
			if err != nil {
				t.Fatal(err)
			}
			if _, c.diagnosticsCA, err = config.ParseDiagnosticsCA(data); err != nil {
				t.Fatalf("%s: %v", ca, err)
			}
		}
		if want := filepath.Join(dir, "want.yaml"); fileExists(t, want) {
			if err := json.Unmarshal(readGoldenJSON(t, want), &c.want); err != nil {
				t.Fatalf("%s: %v", want, err)
			}
		}
		cases = append(cases, c)
	}
	if len(cases) == 0 {
		t.Fatalf("no golden cases under %s", goldenDir)
	}
	return cases
}

// goldenConfig is the defaults with config.yaml over them, as the golden
// test builds it.
func goldenConfig(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg := config.Default(testVersion)
	if data, err := os.ReadFile(path); err == nil {
		if cfg, err = config.Parse(data, testVersion); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("read %s: %v", path, err)
	}
	cfg.InjectorVersion = testVersion
	return cfg
}

// readGoldenJSON reads a YAML file as JSON.
func readGoldenJSON(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	out, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// readGoldenYAML decodes a YAML file into v.
func readGoldenYAML(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(readGoldenJSON(t, path), v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func fileExists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat %s: %v", path, err)
	}
	return err == nil
}
