package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
	"github.com/gopherscope/gopherscope/version"
)

// run calls Main and returns its exit code, stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(t.Context(), "gopherscope", args, Streams{In: strings.NewReader(stdin), Out: &stdout, ErrOut: &stderr})
	return code, stdout.String(), stderr.String()
}

// readTestdata returns a file of testdata.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// wantInjected is what the injector makes of a pod template in offline mode
// with the CLI's default config.
func wantInjected(t *testing.T, tmpl corev1.PodTemplateSpec, namespace string) corev1.PodTemplateSpec {
	t.Helper()
	cfg := config.Default(version.Version).ResolveNativeSidecar(config.NativeSidecarMinMinor)
	cfg.InjectorVersion = version.Version
	pod, _, decision := injector.Inject(&corev1.Pod{ObjectMeta: tmpl.ObjectMeta, Spec: tmpl.Spec},
		injector.Namespace{Name: namespace, Offline: true}, cfg)
	if decision.Action != injector.ActionInject {
		t.Fatalf("the injector skipped the template: %+v", decision)
	}
	return corev1.PodTemplateSpec{ObjectMeta: pod.ObjectMeta, Spec: pod.Spec}
}

func TestInjectMultiDocumentYAML(t *testing.T) {
	input := readTestdata(t, "app.yaml")
	code, stdout, stderr := run(t, "", "inject", "-f", filepath.Join("testdata", "app.yaml"))
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	wantStderr := `deployment/web: gopherscope.io/interval: "abc" is not a duration; using the default 10s
deployment/web injected
cronjob/report injected
pod/debug skipped: the pod's annotation gopherscope.io/inject is "false"
`
	if diff := cmp.Diff(wantStderr, stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}

	in, out := splitDocuments([]byte(input)), splitDocuments([]byte(stdout))
	if len(out) != len(in) {
		t.Fatalf("%d documents out, want %d:\n%s", len(out), len(in), stdout)
	}

	t.Run("the Deployment's pod template is injected and nothing else changes", func(t *testing.T) {
		var before, after appsv1.Deployment
		mustUnmarshal(t, in[0].body, &before)
		mustUnmarshal(t, out[0].body, &after)
		want := before.DeepCopy()
		want.Spec.Template = wantInjected(t, before.Spec.Template, "shop")
		if diff := cmp.Diff(want, &after); diff != "" {
			t.Errorf("Deployment (-want +got):\n%s", diff)
		}
		if got := after.Spec.Template.Spec.InitContainers; len(got) != 1 || got[0].Name != config.SidecarContainerName {
			t.Errorf("init containers = %+v, want the native sidecar", got)
		}
		for _, kept := range []string{
			"# The shop's web tier.\n",
			`gopherscope.io/interval: "abc" # a typo the CLI warns about`,
			"matchLabels: {app: web}",
			"      - name: app\n        image: example.com/web:1.0\n",
		} {
			if !strings.Contains(string(out[0].body), kept) {
				t.Errorf("the output lost %q (comments, flow style and key order are kept):\n%s", kept, out[0].body)
			}
		}
		var generic map[string]any
		mustUnmarshal(t, out[0].body, &generic)
		spec := generic["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		if diff := cmp.Diff(map[string]any{"enabled": true}, spec["futureField"]); diff != "" {
			t.Errorf("a field unknown to the API types was not kept (-want +got):\n%s", diff)
		}
	})
	t.Run("the CronJob's job template is injected", func(t *testing.T) {
		var before, after batchv1.CronJob
		mustUnmarshal(t, in[1].body, &before)
		mustUnmarshal(t, out[1].body, &after)
		want := before.DeepCopy()
		want.Spec.JobTemplate.Spec.Template = wantInjected(t, before.Spec.JobTemplate.Spec.Template, "")
		if diff := cmp.Diff(want, &after); diff != "" {
			t.Errorf("CronJob (-want +got):\n%s", diff)
		}
	})
	for i, name := range map[int]string{2: "Service", 3: "ConfigMap", 4: "opted-out Pod"} {
		t.Run("the "+name+" passes through byte for byte", func(t *testing.T) {
			if string(out[i].separator)+string(out[i].body) != string(in[i].separator)+string(in[i].body) {
				t.Errorf("got\n%s%s\nwant\n%s%s", out[i].separator, out[i].body, in[i].separator, in[i].body)
			}
		})
	}
	t.Run("injecting twice is injecting once", func(t *testing.T) {
		code, again, stderr := run(t, stdout, "inject", "-f", "-")
		if code != 0 || strings.Contains(stderr, " injected") {
			t.Fatalf("second pass: exit code %d, stderr:\n%s", code, stderr)
		}
		if diff := cmp.Diff(stdout, again); diff != "" {
			t.Errorf("second pass changed the output (-first +second):\n%s", diff)
		}
	})
}

func TestInjectOptions(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {gopherscope.io/port: \"0\"}\nspec:\n  containers: [{name: app, image: x}]\n"
	strict := filepath.Join(t.TempDir(), "strict.yaml")
	if err := os.WriteFile(strict, []byte("strict: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout func(t *testing.T, stdout string)
		wantStderr string
	}{
		{
			name: "an old cluster gets a regular sidecar container", args: []string{"inject", "-f", "-", "--kube-version", "1.28"}, stdin: pod,
			wantStdout: func(t *testing.T, stdout string) {
				var got corev1.Pod
				mustUnmarshal(t, []byte(stdout), &got)
				if len(got.Spec.InitContainers) != 0 || len(got.Spec.Containers) != 2 || got.Spec.Containers[1].Name != config.SidecarContainerName {
					t.Errorf("containers %d, init containers %d; want the sidecar as a second container", len(got.Spec.Containers), len(got.Spec.InitContainers))
				}
			},
			wantStderr: `pod/p: gopherscope.io/port: "0"`,
		},
		{
			name: "strict mode refuses the stream and writes nothing", args: []string{"inject", "-f", "-", "--config", strict}, stdin: pod,
			wantCode: 1, wantStderr: "gopherscope inject: stdin: document 1 (line 1): pod/p: denied: invalid gopherscope annotations (strict mode)",
		},
		{
			name: "invalid YAML names its document and line", args: []string{"inject", "-f", "-"},
			stdin:    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
			wantCode: 2, wantStderr: "gopherscope inject: stdin: document 2 (line 5): invalid YAML",
		},
		{
			name: "a pod template of the wrong shape names its object", args: []string{"inject", "-f", "-"},
			stdin:    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: many}\n",
			wantCode: 2, wantStderr: "stdin: document 1 (line 1): deployment/web: decode:",
		},
		{
			name: "a workload of an old apiVersion is passed through with a warning", args: []string{"inject", "-f", "-"},
			stdin: "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: old}\n",
			wantStdout: func(t *testing.T, stdout string) {
				if stdout != "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: old}\n" {
					t.Errorf("stdout = %q, want the input", stdout)
				}
			},
			wantStderr: `deployment/old skipped: apiVersion "extensions/v1beta1" is not supported (want apps/v1)`,
		},
		{
			name: "a Windows Deployment (spec.os.name) is passed through with a warning", args: []string{"inject", "-f", "-"},
			stdin:      windowsDeployment,
			wantStdout: func(t *testing.T, stdout string) { passedThrough(t, windowsDeployment, stdout) },
			wantStderr: "deployment/win: the pod runs on Windows (its spec.os.name is windows): gopherscope does not inject it",
		},
		{
			name: "a Windows Job (nodeSelector) is passed through with a warning", args: []string{"inject", "-f", "-"},
			stdin:      windowsJob,
			wantStdout: func(t *testing.T, stdout string) { passedThrough(t, windowsJob, stdout) },
			wantStderr: "job/win: the pod runs on Windows (its nodeSelector kubernetes.io/os is windows): gopherscope does not inject it",
		},
		{name: "a missing -f is a usage error", args: []string{"inject"}, wantCode: 2, wantStderr: "-f FILENAME (or -f - for stdin) is required"},
		{name: "a bad --kube-version is a usage error", args: []string{"inject", "-f", "-", "--kube-version", "new"}, wantCode: 2, wantStderr: "--kube-version"},
		{name: "a missing file is an input error", args: []string{"inject", "-f", "does-not-exist.yaml"}, wantCode: 2, wantStderr: `read "does-not-exist.yaml"`},
		{name: "an unknown command is a usage error", args: []string{"deploy"}, wantCode: 2, wantStderr: `unknown command "deploy"`},
		{
			name: "version prints the version", args: []string{"version"},
			wantStdout: func(t *testing.T, stdout string) {
				if stdout != version.Version+"\n" {
					t.Errorf("stdout = %q, want %q", stdout, version.Version+"\n")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantStderr)
			}
			if tt.wantCode != 0 && stdout != "" {
				t.Errorf("stdout = %q on failure, want nothing", stdout)
			}
			if tt.wantStdout != nil {
				tt.wantStdout(t, stdout)
			}
		})
	}
}

// mustUnmarshal decodes YAML into v.
func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
}

// Windows workloads: the sidecar is a Linux container, so they are never injected.
const (
	windowsDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: win
spec:
  selector: {matchLabels: {app: win}}
  template:
    metadata: {labels: {app: win}}
    spec:
      os: {name: windows}
      containers: [{name: app, image: example.com/win:1.0}]
`
	windowsJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: win
spec:
  template:
    spec:
      nodeSelector: {kubernetes.io/os: windows}
      restartPolicy: Never
      containers: [{name: app, image: example.com/win:1.0}]
`
)

// passedThrough fails unless stdout is the input, byte for byte.
func passedThrough(t *testing.T, input, stdout string) {
	t.Helper()
	if diff := cmp.Diff(input, stdout); diff != "" {
		t.Errorf("stdout differs from the input (-input +stdout):\n%s", diff)
	}
}
