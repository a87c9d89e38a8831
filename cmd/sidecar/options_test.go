package main

import (
	"flag"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/config"
	sidecarconf "github.com/gopherscope/gopherscope/config/names"
	"github.com/gopherscope/gopherscope/sidecar"
	"github.com/gopherscope/gopherscope/sidecar/diagnostics"
	"github.com/gopherscope/gopherscope/sidecar/findings"
)

func parse(args ...string) (*options, error) {
	o := newOptions()
	fs := flag.NewFlagSet("sidecar", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o, o.Validate()
}

func TestOptionsDefaultsMatchTheInjectionConfig(t *testing.T) {
	o, err := parse()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default("dev")
	want := sidecar.Options{
		TargetHost:    "127.0.0.1",
		TargetPorts:   []int{int(cfg.Target.Ports[0])},
		ExpvarPath:    cfg.Target.ExpvarPath,
		PprofPath:     cfg.Target.PprofPath,
		MetricsPath:   cfg.Target.MetricsPath,
		Interval:      cfg.Interval.Duration,
		History:       cfg.Sidecar.History.Duration,
		ListenAddress: ":9184",
		Findings:      sidecar.DefaultOptions().Findings,
	}
	if diff := cmp.Diff(want, o.Sidecar); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestOptionsFromTheInjectorsFlags(t *testing.T) {
	flagArg := func(name, value string) string { return "--" + name + "=" + value }
	o, err := parse(
		flagArg(sidecarconf.FlagTargetHost, "10.0.0.7"),
		flagArg(sidecarconf.FlagTargetPorts, "6060, 8081"),
		flagArg(sidecarconf.FlagExpvarPath, "/vars"),
		flagArg(sidecarconf.FlagPprofPath, "/pprof"),
		flagArg(sidecarconf.FlagMetricsPath, "/metrics"),
		flagArg(sidecarconf.FlagInterval, "15s"),
		flagArg(sidecarconf.FlagListenAddress, ":9185"),
		flagArg(sidecarconf.FlagHistory, "30m"),
		flagArg(sidecarconf.FlagFindings, "leak-windows=6,gc-share=0.4"),
		flagArg(sidecarconf.FlagDiagnosticsListenAddress, ":9186"),
		"--log-level=debug",
	)
	if err != nil {
		t.Fatal(err)
	}
	thresholds := findings.DefaultOptions()
	thresholds.LeakWindows, thresholds.GCShare = 6, 0.4
	want := sidecar.Options{
		TargetHost: "10.0.0.7", TargetPorts: []int{6060, 8081},
		ExpvarPath: "/vars", PprofPath: "/pprof", MetricsPath: "/metrics",
		Interval: 15 * time.Second, History: 30 * time.Minute, ListenAddress: ":9185",
		Findings: thresholds, Diagnostics: diagnostics.Options{ListenAddress: ":9186"},
	}
	if diff := cmp.Diff(want, o.Sidecar); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	if o.LogLevel != "debug" {
		t.Errorf("log level %q, want debug", o.LogLevel)
	}
}

func TestOptionsRejectBadValues(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "a port out of range", args: []string{"--target-ports=6060,70000"}, wantErr: `"70000" is not a port`},
		{name: "a port that is not a number", args: []string{"--target-ports=http"}, wantErr: `"http" is not a port`},
		{name: "an interval under a second", args: []string{"--interval=500ms"}, wantErr: "shorter than the minimum 1s"},
		{name: "a history shorter than the interval", args: []string{"--interval=1m", "--history=30s"}, wantErr: "--history: 30s is shorter than the interval"},
		{name: "a relative path", args: []string{"--expvar-path=debug/vars"}, wantErr: "--expvar-path: \"debug/vars\" must start with /"},
		{name: "a path with a query", args: []string{"--pprof-path=/debug/pprof?x=1"}, wantErr: "--pprof-path"},
		{name: "every source disabled", args: []string{"--expvar-path=", "--pprof-path="}, wantErr: "every source is disabled"},
		{name: "an unknown log level", args: []string{"--log-level=loud"}, wantErr: "--log-level"},
		{name: "an empty host", args: []string{"--target-host="}, wantErr: "--target-host: must not be empty"},
		{name: "an unknown threshold", args: []string{"--findings=leak-windw=3"}, wantErr: `unknown threshold "leak-windw"`},
		{name: "a threshold out of range", args: []string{"--findings=gc-share=2"}, wantErr: "GC share must be in (0, 1]"},
		{name: "an unknown flag", args: []string{"--target-port=1"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestBinaryDoesNotLinkKubernetes keeps the sidecar small: it may use
// config/names, but not config itself (k8s.io/api) or any Kubernetes client.
func TestBinaryDoesNotLinkKubernetes(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/gopherscope/gopherscope/config/names") {
		t.Fatalf("go list -deps lists no config/names; is the output right?\n%s", out)
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, "k8s.io/") || strings.HasPrefix(dep, "sigs.k8s.io/") || dep == "github.com/gopherscope/gopherscope/config" {
			t.Errorf("the sidecar links %s", dep)
		}
	}
}
