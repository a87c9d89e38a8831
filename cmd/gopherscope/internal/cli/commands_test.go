package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/version"
)

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout []string // substrings
		wantStderr string   // substring
	}{
		{name: "--version prints the version like the other binaries", args: []string{"--version"}, wantStdout: []string{version.Version + "\n"}},
		{name: "help inject shows inject's help, examples and exit codes", args: []string{"help", "inject"},
			wantStdout: []string{"gopherscope inject -f FILENAME", "Examples:", "-f, --filename strings", "-R, --recursive", "--config-from-cluster", "Exit codes:\n  0  done\n  1  strict-mode"}},
		{name: "inject -h shows the same help on stdout", args: []string{"inject", "-h"}, wantStdout: []string{"Examples:", "--config-from-cluster"}},
		{name: "help version has examples", args: []string{"help", "version"}, wantStdout: []string{"Examples:", "gopherscope --version"}},
		{name: "the root help lists the commands and exit codes", args: []string{"--help"},
			wantStdout: []string{"  inject ", "  version ", "gopherscope help COMMAND", "2  usage or input errors"}},
		{name: "help of an unknown command is a usage error", args: []string{"help", "deploy"}, wantCode: 2, wantStderr: `unknown command "deploy"`},
		{name: "no command is a usage error", args: nil, wantCode: 2, wantStderr: "Commands:"},
		{name: "an unknown flag is a usage error", args: []string{"inject", "--filenames", "x"}, wantCode: 2, wantStderr: "unknown flag: --filenames\nSee 'gopherscope help inject'"},
		{name: "stdin twice is a usage error", args: []string{"inject", "-f", "-", "-f", "-"}, wantCode: 2, wantStderr: "-f - (stdin) can be given only once"},
		{name: "--config with --config-from-cluster is a usage error", args: []string{"inject", "-f", "-", "--config", "c.yaml", "--config-from-cluster"},
			wantCode: 2, wantStderr: "--config and --config-from-cluster are exclusive"},
		{name: "an argument that is not a flag is a usage error", args: []string{"inject", "deploy.yaml"}, wantCode: 2, wantStderr: "give files with -f"},
		{name: "an unreadable config is an input error", args: []string{"inject", "-f", "-", "--config", "does-not-exist.yaml"}, wantCode: 2, wantStderr: "does-not-exist.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			for _, want := range tt.wantStdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, stderr)
			}
			if tt.wantCode != 0 && stdout != "" {
				t.Errorf("stdout %q on a usage error, want nothing", stdout)
			}
		})
	}
}

func TestDirectoryInputs(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "pod.yaml"), []byte("kind: ConfigMap\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "", "inject", "-f", dir)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "holds no .yaml, .yml or .json file (add -R for its subdirectories)") {
		t.Errorf("a directory with manifests only below it: exit code %d, stdout %q, stderr %q; want 2 and a hint at -R", code, stdout, stderr)
	}
	code, stdout, _ = run(t, "", "inject", "-R", "-f", dir)
	if code != 0 || stdout != "kind: ConfigMap\n" {
		t.Errorf("with -R: exit code %d, stdout %q; want the file below", code, stdout)
	}
}

func TestExitCode(t *testing.T) {
	violation := violationError{errors.New("denied")}
	input := errors.New("invalid YAML")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "a violation", err: violation, want: 1},
		{name: "violations only", err: errors.Join(violation, errors.Join(violation)), want: 1},
		{name: "a violation and an input error", err: errors.Join(violation, input), want: 2},
		{name: "an input error", err: input, want: 2},
		{name: "a usage error", err: usageError{input}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestUnescapeHTML(t *testing.T) {
	in := `{"a":"x\u0026y \u003cz\u003e","b":"\\u0026 stays","c":"\"\u00e9\n"}`
	want := `{"a":"x&y <z>","b":"\\u0026 stays","c":"\"\u00e9\n"}`
	if diff := cmp.Diff(want, string(unescapeHTML([]byte(in)))); diff != "" {
		t.Errorf("unescapeHTML (-want +got):\n%s", diff)
	}
}

func TestIndentOf(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:                    "",
		"{\n  \"a\": 1\n}":           "  ",
		"{\n\t\"a\": 1\n}":           "\t",
		"{\"a\":\n1}":                "    ",
		"\n\n{\n    \"a\": 1\n}\n\n": "    ",
	} {
		if got := indentOf([]byte(in)); got != want {
			t.Errorf("indentOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSplitJSON(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []string
		wantJSON bool
	}{
		{name: "one object", in: "{\"a\": 1}\n", want: []string{`{"a": 1}`}, wantJSON: true},
		{name: "a stream of objects", in: "{}\n\n  {\"b\":\n2}", want: []string{"{}", "{\"b\":\n2}"}, wantJSON: true},
		{name: "YAML", in: "a: 1\n"},
		{name: "YAML in flow style", in: "{a: 1}\n"},
		{name: "JSON followed by something else", in: "{}\n]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, isJSON := splitJSON([]byte(tt.in))
			var got []string
			for _, d := range docs {
				got = append(got, string(d.raw))
			}
			if isJSON != tt.wantJSON {
				t.Errorf("JSON %v, want %v", isJSON, tt.wantJSON)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("documents (-want +got):\n%s", diff)
			}
		})
	}
}
