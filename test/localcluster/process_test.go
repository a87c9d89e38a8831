package localcluster

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestProcessStopsGracefullyAndRestartsIntoTheSameLog(t *testing.T) {
	dir := t.TempDir()
	p, err := StartProcess(ProcessOptions{
		Name:   "looper",
		Path:   "/bin/sh",
		Args:   []string{"-c", `trap 'echo "got TERM"; exit 0' TERM; echo "started with GREETING=$GREETING"; while :; do sleep 0.05; done`},
		Env:    []string{"GREETING=hello"},
		LogDir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	waitForLog(t, p, "started with GREETING=hello")
	if err := p.Start(); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("Start on a running process: error = %v, want already running", err)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned but the process has not exited")
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop: %v, want nothing to do", err)
	}
	if err := p.Start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	waitForLog(t, p, "got TERM\nstarted with GREETING=hello")
}

func TestProcessInheritsNoEnvironment(t *testing.T) {
	t.Setenv("GOPHERSCOPE_LEAK", "1")
	p, err := StartProcess(ProcessOptions{Name: "env", Path: "/bin/sh", Args: []string{"-c", "echo leak=${GOPHERSCOPE_LEAK:-none}"}, LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	<-p.Exited()
	if err := p.ExitError(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "leak=none" {
		t.Errorf("output = %q, want leak=none: the process must see only ProcessOptions.Env", got)
	}
}

// waitForLog waits up to 5 s until the process's log contains want.
func waitForLog(t *testing.T, p *Process, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(p.LogPath())
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %s = %q after 5s, want it to contain %q", p.LogPath(), b, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
