package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"runtime"
	rpprof "runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// parkedInProfileTest blocks until stop is closed: the stack the tests look for.
func parkedInProfileTest(started *sync.WaitGroup, stop <-chan struct{}) {
	started.Done()
	<-stop // parkLine
}

// parkLine is the line of "<-stop" above.
var parkLine = func() int {
	_, _, line, _ := runtime.Caller(0)
	return line - 5
}()

func thisFile(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return file
}

// park starts n goroutines in parkedInProfileTest until the test ends.
func park(t *testing.T, n int) {
	t.Helper()
	stop := make(chan struct{})
	var started, exited sync.WaitGroup
	started.Add(n)
	for range n {
		exited.Go(func() { parkedInProfileTest(&started, stop) })
	}
	started.Wait()
	t.Cleanup(func() { close(stop); exited.Wait() })
}

// findGroup returns the group whose innermost frames include fn.
func findGroup(p GoroutineProfile, fn string) (GoroutineGroup, bool) {
	for _, g := range p.Groups {
		for _, f := range g.Frames {
			if strings.Contains(f, fn) {
				return g, true
			}
		}
	}
	return GoroutineGroup{}, false
}

func TestParseGoroutineProfileOfTheRealRuntime(t *testing.T) {
	park(t, 37)
	var buf bytes.Buffer
	if err := rpprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
		t.Fatal(err)
	}
	p, err := ParseGoroutineProfile(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total < 37 || p.Total > runtime.NumGoroutine()+5 {
		t.Errorf("total %d, want at least the 37 parked and about runtime.NumGoroutine() = %d", p.Total, runtime.NumGoroutine())
	}
	g, ok := findGroup(p, "source.parkedInProfileTest")
	if !ok {
		t.Fatalf("no group names parkedInProfileTest in %+v", p.Groups)
	}
	if g.Count != 37 {
		t.Errorf("the parked group has %d goroutines, want 37", g.Count)
	}
	// The runtime leaves its own frames (gopark, chanrecv) out of the profile.
	if !strings.HasSuffix(g.Frames[0], "source.parkedInProfileTest "+thisFile(t)+":"+strconv.Itoa(parkLine)) {
		t.Errorf("innermost frame %q, want parkedInProfileTest with its file:line", g.Frames[0])
	}
	sum := 0
	for _, g := range p.Groups {
		sum += g.Count
		if len(g.Frames) == 0 || len(g.Frames) > MaxStackFrames {
			t.Errorf("group with %d frames, want 1 to %d", len(g.Frames), MaxStackFrames)
		}
	}
	if sum != p.Total {
		t.Errorf("groups hold %d goroutines, the total says %d", sum, p.Total)
	}
}

func TestPprofGoroutineProfileReadsTheAppsHandler(t *testing.T) {
	park(t, 5)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := NewClient(5*time.Second, 16<<20, "test")
	t.Cleanup(client.Close)
	src := NewPprof(Config{Host: "127.0.0.1", Ports: []int{serverPort(t, srv)}, Client: client}, "/debug/pprof/")

	if _, err := src.GoroutineProfile(t.Context(), ProfileGoroutine); err == nil || !strings.Contains(err.Error(), "not answered yet") {
		t.Errorf("before the first poll: %v, want a clear error", err)
	}
	if _, err := src.Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	p, err := src.GoroutineProfile(t.Context(), ProfileGoroutine)
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := findGroup(p, "source.parkedInProfileTest"); !ok || g.Count != 5 {
		t.Errorf("parked group %+v (found %v), want 5 goroutines", g, ok)
	}
	// goroutineleak exists only with GOEXPERIMENT=goroutineleakprofile;
	// without it the handler answers 404, a clear error.
	if _, err := src.GoroutineProfile(context.Background(), ProfileGoroutineLeak); err != nil {
		var status *StatusError
		if !errors.As(err, &status) || status.Code != http.StatusNotFound {
			t.Errorf("goroutineleak: %v, want a profile or a 404", err)
		}
	}
}

func TestParseGoroutineProfileRefusesOrBoundsHostileBodies(t *testing.T) {
	many := &strings.Builder{}
	many.WriteString("goroutine profile: total 5000\n")
	for i := range maxGoroutineGroups + 10 {
		fmt.Fprintf(many, "1 @ 0x1\n#\t0x1\tmain.f%d+0x1\t/a.go:1\n\n", i)
	}
	deep := &strings.Builder{}
	deep.WriteString("goroutine profile: total 2\n2 @ 0x1\n# labels: {\"a\":\"b\"}\n")
	for i := range MaxStackFrames * 3 {
		fmt.Fprintf(deep, "#\t0x1\tmain.f%d+0x1\t\t\t/a.go:%d\n", i, i)
	}
	tests := []struct {
		name, body string
		wantErr    string
		check      func(*testing.T, GoroutineProfile)
	}{
		{name: "an empty body", body: "", wantErr: "unexpected EOF"},
		{name: "another header", body: "heap profile: 1: 2 [3: 4] @ heap/1\n", wantErr: "want \"goroutine profile: total \""},
		{name: "a group line without a count", body: "goroutine profile: total 1\nmany @ 0x1\n", wantErr: "bad group line"},
		{name: "a line past 64 KiB", body: "goroutine profile: total 1\n1 @ " + strings.Repeat("0x1 ", 20000) + "\n", wantErr: "token too long"},
		{name: "more groups than are kept", body: many.String(), check: func(t *testing.T, p GoroutineProfile) {
			if len(p.Groups) != maxGoroutineGroups || p.Total != 5000 {
				t.Errorf("%d groups, total %d; want %d groups and the header's total", len(p.Groups), p.Total, maxGoroutineGroups)
			}
		}},
		{name: "a deep stack with labels", body: deep.String(), check: func(t *testing.T, p GoroutineProfile) {
			if len(p.Groups) != 1 || len(p.Groups[0].Frames) != MaxStackFrames || p.Groups[0].Frames[0] != "main.f0 /a.go:0" {
				t.Errorf("groups %+v, want one of %d frames starting with main.f0", p.Groups, MaxStackFrames)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseGoroutineProfile(strings.NewReader(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}
