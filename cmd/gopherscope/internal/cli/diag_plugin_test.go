package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestPluginName runs gopherscope as kubectl runs a plugin: the binary
// kubectl-gopherscope behaves the same, and its help and messages say
// `kubectl gopherscope`.
func TestPluginName(t *testing.T) {
	for _, tc := range []struct {
		name, argv0, want, wantNot string
	}{
		{name: "as kubectl-gopherscope, help says kubectl gopherscope", argv0: "/usr/local/bin/kubectl-gopherscope",
			want: "\n  kubectl gopherscope top -n shop\n", wantNot: "\n  gopherscope top"},
		{name: "as kubectl-gopherscope.exe too", argv0: "kubectl-gopherscope.exe",
			want: "\n  kubectl gopherscope top -n shop\n"},
		{name: "as gopherscope, help says gopherscope", argv0: "./bin/gopherscope",
			want: "\n  gopherscope top -n shop\n", wantNot: "kubectl gopherscope top -n shop\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main(t.Context(), tc.argv0, []string{"help", "top"}, Streams{Out: &stdout, ErrOut: &stderr}); code != 0 {
				t.Fatalf("exit code %d, stderr %q", code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.want) || (tc.wantNot != "" && strings.Contains(stdout.String(), tc.wantNot)) {
				t.Errorf("help, want %q and not %q:\n%s", tc.want, tc.wantNot, stdout.String())
			}
		})
	}

	t.Run("errors and the root help name the plugin", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := Main(t.Context(), "kubectl-gopherscope", []string{"profile", "web", "--cpu", "60s", "-o", "x"}, Streams{Out: &stdout, ErrOut: &stderr})
		if code != exitUsage || !strings.HasPrefix(stderr.String(), "kubectl gopherscope profile: --cpu 1m0s") ||
			!strings.Contains(stderr.String(), "See 'kubectl gopherscope help profile'.") {
			t.Errorf("exit code %d, stderr %q", code, stderr.String())
		}
		stderr.Reset()
		Main(t.Context(), "kubectl-gopherscope", nil, Streams{Out: &stdout, ErrOut: &stderr})
		for _, want := range []string{"  kubectl gopherscope COMMAND [flags]", "  kubectl gopherscope help COMMAND", "(the same as kubectl gopherscope --version)"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("root help lacks %q:\n%s", want, stderr.String())
			}
		}
	})

	t.Run("every command's help is rewritten, and only its command lines", func(t *testing.T) {
		for _, c := range commands() {
			var stdout bytes.Buffer
			Main(t.Context(), "kubectl-gopherscope", []string{"help", c.name}, Streams{Out: &stdout, ErrOut: &stdout})
			help := stdout.String()
			if strings.Contains(help, "kubectl kubectl") || strings.Contains(help, "gopherscope.io") && !strings.Contains(c.help, "gopherscope.io") {
				t.Errorf("%s: the rewrite went too far:\n%s", c.name, help)
			}
			if !strings.Contains(help, "kubectl gopherscope "+c.name) {
				t.Errorf("%s: the help's usage does not say kubectl gopherscope %s:\n%s", c.name, c.name, help)
			}
		}
	})
}
