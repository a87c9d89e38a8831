package webhook

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/injector"
	"github.com/gopherscope/gopherscope/internal/testlog"
	"github.com/gopherscope/gopherscope/internal/testpki"
)

// diagnosticsConfig is the test config with a diagnostics port of 9185.
func diagnosticsConfig() *config.Config {
	return testConfig(func(c *config.Config) { c.Sidecar.DiagnosticsPort = 9185 })
}

// admitted sends podJSON's CREATE in shop through h over HTTP and returns
// the patched pod's sidecar, its status and the response's warnings.
func admitted(t *testing.T, h *PodInjector) (corev1.Container, injector.Status, []string) {
	t.Helper()
	raw := podJSON(nil, nil)
	code, review := serve(t, h, reviewJSON(t, podRequest("shop", raw)))
	if code != 200 || !review.Response.Allowed || len(review.Response.Patch) == 0 {
		t.Fatalf("HTTP %d, allowed %v, patch %s: want the injection", code, review.Response.Allowed, review.Response.Patch)
	}
	pod, _ := applyPatch(t, raw, review.Response.Patch)
	i := slices.IndexFunc(pod.Spec.InitContainers, func(c corev1.Container) bool { return c.Name == config.SidecarContainerName })
	if i < 0 {
		t.Fatalf("the patched pod has no sidecar: %+v", pod.Spec)
	}
	st, err := injector.ParseStatus(pod.Annotations[config.AnnotationStatus])
	if err != nil {
		t.Fatal(err)
	}
	return pod.Spec.InitContainers[i], st, review.Response.Warnings
}

// checkDiagnostics asserts that the sidecar serves the diagnostics port
// 9185 with bundle, or, for "", that it has no diagnostics port and the
// warnings say why.
func checkDiagnostics(t *testing.T, sidecar corev1.Container, st injector.Status, warnings []string, bundle string) {
	t.Helper()
	arg := "--" + sidecarconf.FlagDiagnosticsListenAddress + "=:9185"
	port := corev1.ContainerPort{Name: config.SidecarDiagnosticsPortName, ContainerPort: 9185, Protocol: corev1.ProtocolTCP}
	caIndex := slices.IndexFunc(sidecar.Env, func(e corev1.EnvVar) bool { return e.Name == sidecarconf.EnvDiagnosticsCA })
	if bundle == "" {
		if slices.Contains(sidecar.Args, arg) || slices.Contains(sidecar.Ports, port) || caIndex >= 0 || st.DiagnosticsPort != 0 {
			t.Errorf("without a bundle the sidecar has args %q, ports %+v, the CA env %v, status port %d; want no diagnostics port",
				sidecar.Args, sidecar.Ports, caIndex >= 0, st.DiagnosticsPort)
		}
		want := "the sidecar has no diagnostics port (sidecar.diagnosticsPort: 9185): the webhook has no diagnostics CA bundle yet"
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.HasPrefix(w, want) }) ||
			!slices.ContainsFunc(st.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("warnings %q, status warnings %q: want one starting %q in both", warnings, st.Warnings, want)
		}
		return
	}
	if !slices.Contains(sidecar.Args, arg) || !slices.Contains(sidecar.Ports, port) || st.DiagnosticsPort != 9185 {
		t.Errorf("the sidecar has args %q, ports %+v, status port %d; want %s and %+v", sidecar.Args, sidecar.Ports, st.DiagnosticsPort, arg, port)
	}
	if caIndex < 0 {
		t.Fatalf("the sidecar has no %s", sidecarconf.EnvDiagnosticsCA)
	}
	if diff := cmp.Diff(bundle, sidecar.Env[caIndex].Value); diff != "" {
		t.Errorf("%s (-want +got):\n%s", sidecarconf.EnvDiagnosticsCA, diff)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q, want none", warnings)
	}
}

func TestAdmissionInjectsTheDiagnosticsPortOnlyWithABundle(t *testing.T) {
	root := testpki.NewCAForTest(t)
	h, _ := newTestHandler(t, diagnosticsConfig())

	sidecar, st, warnings := admitted(t, h)
	checkDiagnostics(t, sidecar, st, warnings, "")

	h.Config.SetDiagnosticsCA(string(root.PEM))
	sidecar, st, warnings = admitted(t, h)
	checkDiagnostics(t, sidecar, st, warnings, string(root.PEM))

	// A hot-reloaded config keeps the bundle.
	h.Config.Store(diagnosticsConfig())
	sidecar, st, warnings = admitted(t, h)
	checkDiagnostics(t, sidecar, st, warnings, string(root.PEM))
}

func TestConfigProviderCombinesConfigAndBundle(t *testing.T) {
	stored := diagnosticsConfig()
	p := NewConfigProvider(stored)
	if p.Load() != stored {
		t.Errorf("without a bundle Load() is not the stored config itself")
	}
	p.SetDiagnosticsCA("bundle")
	if got := p.Load(); got.DiagnosticsCA != "bundle" || stored.DiagnosticsCA != "" || got.Sidecar.DiagnosticsPort != 9185 {
		t.Errorf("Load().DiagnosticsCA = %q, stored one %q, port %d; want the bundle on a copy of the stored config",
			got.DiagnosticsCA, stored.DiagnosticsCA, got.Sidecar.DiagnosticsPort)
	}
	p.Store(testConfig(func(c *config.Config) { c.Strict = true }))
	if got := p.Load(); got.DiagnosticsCA != "bundle" || !got.Strict {
		t.Errorf("after Store: DiagnosticsCA %q, strict %v; want the bundle kept on the new config", got.DiagnosticsCA, got.Strict)
	}
	p.SetDiagnosticsCA("")
	if got := p.Load(); got.DiagnosticsCA != "" {
		t.Errorf("after SetDiagnosticsCA(\"\"): DiagnosticsCA %q", got.DiagnosticsCA)
	}
}

// TestDiagnosticsCAReaderAgainstTheAPIServer reads the ConfigMap through a
// real API server as it goes through the states the diagnostics server and
// the chart put it in, and checks after each read what the next admission
// injects.
func TestDiagnosticsCAReaderAgainstTheAPIServer(t *testing.T) {
	env := startControlPlane(t)
	c, err := client.New(env.Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gopherscope"}}
	if err := c.Create(t.Context(), ns); err != nil {
		t.Fatal(err)
	}
	h, _ := newTestHandler(t, diagnosticsConfig())
	var lines testlog.Lines
	reader := &DiagnosticsCAReader{Reader: c, Namespace: "gopherscope", Name: "gopherscope-diagnostics-ca", Provider: h.Config, Log: lines.Logger()}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "gopherscope", Name: "gopherscope-diagnostics-ca"}}
	setBundle := func(t *testing.T, bundle string) {
		t.Helper()
		cm.Data = map[string]string{config.DiagnosticsCAKey: bundle}
		if err := c.Update(t.Context(), cm); err != nil {
			t.Fatal(err)
		}
	}
	old, next := testpki.NewCAForTest(t), testpki.NewCAForTest(t)

	t.Run("a missing ConfigMap: injection without the port, and the log says why", func(t *testing.T) {
		reader.Refresh(t.Context())
		sidecar, st, warnings := admitted(t, h)
		checkDiagnostics(t, sidecar, st, warnings, "")
		if lines.Find("diagnostics CA bundle not available", "gopherscope/gopherscope-diagnostics-ca not found", `"previousBundleKept"=false`) == "" {
			t.Errorf("no log line about the missing ConfigMap:\n%s", lines.String())
		}
	})
	t.Run("the chart's empty ConfigMap: still without, logged once", func(t *testing.T) {
		if err := c.Create(t.Context(), cm); err != nil {
			t.Fatal(err)
		}
		reader.Refresh(t.Context())
		reader.Refresh(t.Context())
		sidecar, st, warnings := admitted(t, h)
		checkDiagnostics(t, sidecar, st, warnings, "")
		if got := lines.Matching("has no key ca.crt yet"); len(got) != 1 {
			t.Errorf("%d log lines about the empty ConfigMap, want 1:\n%s", len(got), lines.String())
		}
	})
	t.Run("a published root: the next admission injects it", func(t *testing.T) {
		setBundle(t, string(old.PEM))
		reader.Refresh(t.Context())
		sidecar, st, warnings := admitted(t, h)
		checkDiagnostics(t, sidecar, st, warnings, string(old.PEM))
		if lines.Find("diagnostics CA bundle loaded", `"roots"=1`, "CN=gopherscope-test-ca") == "" {
			t.Errorf("no log line about the loaded bundle:\n%s", lines.String())
		}
	})
	two := string(old.PEM) + string(next.PEM)
	t.Run("a new root published alongside the old: both injected", func(t *testing.T) {
		setBundle(t, two)
		reader.Refresh(t.Context())
		sidecar, st, warnings := admitted(t, h)
		checkDiagnostics(t, sidecar, st, warnings, two)
	})
	t.Run("garbage: the previous bundle is kept and the log says what is wrong", func(t *testing.T) {
		setBundle(t, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
		reader.Refresh(t.Context())
		sidecar, st, warnings := admitted(t, h)
		checkDiagnostics(t, sidecar, st, warnings, two)
		if lines.Find("diagnostics CA bundle not available", "key ca.crt: block 1: not PEM", `"previousBundleKept"=true`) == "" {
			t.Errorf("no log line about the invalid bundle:\n%s", lines.String())
		}
	})
	t.Run("a certificate that is no CA: kept too", func(t *testing.T) {
		leaf, err := old.Issue()
		if err != nil {
			t.Fatal(err)
		}
		setBundle(t, string(leaf.CertPEM))
		reader.Refresh(t.Context())
		sidecar, st, warnings := admitted(t, h)
		checkDiagnostics(t, sidecar, st, warnings, two)
		if lines.Find("certificate 1 (CN=gopherscope-webhook) is not a CA") == "" {
			t.Errorf("no log line about the certificate that is no CA:\n%s", lines.String())
		}
	})
	t.Run("the ConfigMap deleted: kept", func(t *testing.T) {
		if err := c.Delete(t.Context(), cm); err != nil {
			t.Fatal(err)
		}
		reader.Refresh(t.Context())
		sidecar, st, warnings := admitted(t, h)
		checkDiagnostics(t, sidecar, st, warnings, two)
	})
	t.Run("started, it reads at once and then every interval", func(t *testing.T) {
		cm.ResourceVersion = ""
		cm.Data = map[string]string{config.DiagnosticsCAKey: string(next.PEM)}
		if err := c.Create(t.Context(), cm); err != nil {
			t.Fatal(err)
		}
		started := &DiagnosticsCAReader{Reader: c, Namespace: "gopherscope", Name: cm.Name, Interval: 100 * time.Millisecond,
			Provider: h.Config, Log: lines.Logger()}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- started.Start(ctx) }()
		eventually(t, "the first read", 30*time.Second, func() error { return wantBundle(h, string(next.PEM)) })
		setBundle(t, string(old.PEM))
		eventually(t, "a later read", 30*time.Second, func() error { return wantBundle(h, string(old.PEM)) })
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start after cancel: %v", err)
		}
	})
}

// wantBundle says whether h's config carries bundle.
func wantBundle(h *PodInjector, bundle string) error {
	if got := h.Config.Load().DiagnosticsCA; got != bundle {
		return fmt.Errorf("the config's bundle is %d bytes, want %d", len(got), len(bundle))
	}
	return nil
}
