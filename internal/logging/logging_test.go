package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestNewRefusesAnUnknownLevel(t *testing.T) {
	if _, _, err := New("loud", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"loud" is not one of`) {
		t.Errorf("New(loud) error = %v, want one naming the level", err)
	}
	if err := CheckLevel("loud"); err == nil {
		t.Error("CheckLevel(loud) succeeded")
	}
	for _, level := range []string{"debug", "info", "warn", "error"} {
		if err := CheckLevel(level); err != nil {
			t.Errorf("CheckLevel(%s): %v", level, err)
		}
	}
}

func TestNewWritesOneJSONLinePerEvent(t *testing.T) {
	var out bytes.Buffer
	log, flush, err := New("debug", &out)
	if err != nil {
		t.Fatal(err)
	}
	if !log.V(1).Enabled() {
		t.Error("debug level does not enable V(1) logs")
	}
	log.WithValues("version", "v1").Error(errors.New("boom"), "serve failed", "port", 9184)
	flush()

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1 (no stack trace):\n%s", len(lines), out.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, lines[0])
	}
	for key, want := range map[string]any{"level": "error", "msg": "serve failed", "error": "boom", "version": "v1", "port": float64(9184)} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v (line %s)", key, got[key], want, lines[0])
		}
	}
	if _, ok := got["caller"]; !ok {
		t.Errorf("no caller in %s", lines[0])
	}
}

func TestInfoLevelHidesDebugLines(t *testing.T) {
	var out bytes.Buffer
	log, flush, err := New("info", &out)
	if err != nil {
		t.Fatal(err)
	}
	log.V(1).Info("detail")
	log.Info("event")
	flush()
	if strings.Contains(out.String(), "detail") || !strings.Contains(out.String(), `"msg":"event"`) {
		t.Errorf("info level wrote:\n%s\nwant the event only", out.String())
	}
}
