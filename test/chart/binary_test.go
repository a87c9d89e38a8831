package chart_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopherscope/gopherscope/test/chart"
	appsv1 "k8s.io/api/apps/v1"
)

// TestWebhookBinaryAcceptsTheDeploymentsArgs runs the real cmd/webhook with the arguments
// the chart's Deployment gives it ($(POD_NAMESPACE) expanded, as the kubelet does) plus
// --version, which parses every flag and exits: a renamed or retyped flag fails here.
func TestWebhookBinaryAcceptsTheDeploymentsArgs(t *testing.T) {
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "webhook")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/webhook")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/webhook: %v\n%s", err, out)
	}
	for _, vals := range []map[string]any{
		nil,
		values("webhook.logLevel", "debug", "webhook.enableHTTP2", true, "webhook.port", 10443),
		values("auditor.rolloutRestart", true, "auditor.period", "90s", "auditor.restartCooldown", "2h"),
	} {
		d := get[*appsv1.Deployment](t, render(t, vals), fullname)
		var args []string
		for _, a := range d.Spec.Template.Spec.Containers[0].Args {
			args = append(args, strings.ReplaceAll(a, "$(POD_NAMESPACE)", namespace))
		}
		out, err := exec.CommandContext(t.Context(), bin, append(args, "--version")...).CombinedOutput()
		if err != nil {
			t.Errorf("webhook %s --version: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestDiagnosticsBinaryAcceptsTheDeploymentsArgs does the same for cmd/diagnostics and the
// diagnostics server's Deployment.
func TestDiagnosticsBinaryAcceptsTheDeploymentsArgs(t *testing.T) {
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "diagnostics")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/diagnostics")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/diagnostics: %v\n%s", err, out)
	}
	for _, vals := range []map[string]any{
		nil,
		values("diagnostics.logLevel", "debug", "diagnostics.port", 10443, "diagnostics.tls.certValidity", "12h"),
	} {
		d := get[*appsv1.Deployment](t, render(t, vals), fullname+"-diagnostics")
		var args []string
		for _, a := range d.Spec.Template.Spec.Containers[0].Args {
			args = append(args, strings.ReplaceAll(a, "$(POD_NAMESPACE)", namespace))
		}
		out, err := exec.CommandContext(t.Context(), bin, append(args, "--version")...).CombinedOutput()
		if err != nil {
			t.Errorf("diagnostics %s --version: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
