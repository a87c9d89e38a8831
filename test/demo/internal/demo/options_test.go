package demo

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestNewOptionsReadsDemoDuration(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		want    time.Duration
		wantErr string
	}{
		{"no DEMO_DURATION runs until Ctrl-C", "", 0, ""},
		{"a Go duration stops the demo on its own", "30s", 30 * time.Second, ""},
		{"anything else is refused with the variable's name", "half a minute", 0, `DEMO_DURATION "half a minute"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := NewOptions(tt.env, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Duration != tt.want {
				t.Errorf("Duration = %s, want %s", o.Duration, tt.want)
			}
		})
	}
}

func TestValidateSaysWhatIsMissing(t *testing.T) {
	o := &Options{RepoRoot: t.TempDir(), Duration: -time.Second, RowEvery: time.Millisecond}
	err := o.Validate()
	if err == nil {
		t.Fatal("Validate accepted an empty repository and bad durations")
	}
	for _, want := range []string{
		"--duration -1s: must not be negative",
		"--row-every 1ms: at least 1s",
		"no charts/gopherscope in it",
		"binary webhook not in " + o.RepoRoot + "/bin (run `make demo`",
		"bin/kube-apiserver is missing (run `make demo`",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
