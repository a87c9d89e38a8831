package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/pprof/profile"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/gopherscope/gopherscope/diagnostics/api"
)

// TestProfiles takes profiles, dumps and traces from a server that plays
// the diagnostics API with real data of this process, and checks what the
// user gets: files go tool pprof opens, the summary, and clear refusals
// that leave no file behind.
func TestProfiles(t *testing.T) {
	cpu, err := cpuProfile()
	if err != nil {
		t.Fatal(err)
	}
	heap := realProfile(t, "heap", 0)
	goroutines := realProfile(t, "goroutine", 2)
	traceData := realTrace(t)
	var seen []diagRequest
	agg := startAggregator(t, nil, func(w http.ResponseWriter, r *http.Request, req diagRequest) {
		seen = append(seen, req)
		gr := schema.GroupResource{Group: api.Group, Resource: "pods/" + req.resource}
		switch {
		case req.user == "bob":
			writeTestStatus(w, apierrors.NewForbidden(gr, req.pod, errors.New("RBAC grants no get on it")))
		case req.pod == "uninjected":
			writeTestStatus(w, apierrors.NewNotFound(corev1.Resource("pods/diagnostics"),
				req.namespace+"/"+req.pod+": the pod has no gopherscope sidecar with a gs-diagnostics port"))
		case req.pod == "cut":
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(heap[:len(heap)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		case req.pod == "slow": // half now, the rest never
			_, _ = w.Write(heap[:len(heap)/2])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case req.pod == "short": // ends cleanly, but half a profile
			_, _ = w.Write(heap[:len(heap)/2])
		case req.resource == api.Profile:
			_, _ = w.Write(cpu)
		case req.resource == api.Heap:
			_, _ = w.Write(heap)
		case req.resource == api.Goroutine:
			_, _ = w.Write(goroutines)
		case req.resource == api.Trace:
			_, _ = w.Write(traceData)
		default:
			writeTestStatus(w, apierrors.NewBadRequest("unexpected resource "+req.resource))
		}
	})
	kube := []string{"--kubeconfig", agg.kubeconfig, "-n", "shop"}
	dir := t.TempDir()

	t.Run("a CPU profile is written as pprof parses it and its summary names the busy function", func(t *testing.T) {
		seen = nil
		out := filepath.Join(dir, "cpu.pb.gz")
		code, stdout, stderr := run(t, "", append([]string{"profile", "web-1", "--cpu", "2s", "-o", out}, kube...)...)
		t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
		if code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
		}
		if len(seen) != 1 || seen[0].resource != api.Profile || seen[0].query.Get("seconds") != "2" || seen[0].pod != "web-1" || seen[0].namespace != "shop" {
			t.Errorf("requests %+v, want one for shop/web-1's profile with seconds=2", seen)
		}
		p := parseProfileFile(t, out)
		if p.SampleType[sampleIndex(p, "cpu")].Type != "cpu" {
			t.Errorf("sample types %v, want cpu", p.SampleType)
		}
		if top := firstSummaryRow(t, stdout); !strings.HasSuffix(top, ".busyTestSpin") {
			t.Errorf("top function %q, want busyTestSpin; stdout:\n%s", top, stdout)
		}
		if !strings.Contains(stdout, "by cpu") || !strings.Contains(stdout, "go tool pprof "+out) {
			t.Errorf("stdout does not say the sample type and how to open the file:\n%s", stdout)
		}
		if !strings.Contains(stderr, "Taking a 2s CPU profile of shop/web-1") {
			t.Errorf("stderr %q, want the progress line", stderr)
		}
	})

	t.Run("a heap profile ranks by inuse_space", func(t *testing.T) {
		out := filepath.Join(dir, "heap.pb.gz")
		code, stdout, stderr := run(t, "", append([]string{"profile", "pod/web-1", "--heap", "-o", out}, kube...)...)
		if code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
		}
		parseProfileFile(t, out)
		if !strings.Contains(stdout, "functions by inuse_space") {
			t.Errorf("stdout:\n%s", stdout)
		}
	})

	t.Run("a CPU profile over 45s is refused before asking", func(t *testing.T) {
		before := agg.requests.Load()
		out := filepath.Join(dir, "long.pb.gz")
		code, stdout, stderr := run(t, "", append([]string{"profile", "web-1", "--cpu", "60s", "-o", out}, kube...)...)
		if code != exitUsage || stdout != "" || !strings.Contains(stderr, "--cpu 1m0s is longer than the 45s the diagnostics API allows") {
			t.Errorf("exit code %d, stdout %q, stderr %q; want 2 and the limit explained", code, stdout, stderr)
		}
		if agg.requests.Load() != before {
			t.Errorf("the server was asked")
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists: %v", out, err)
		}
	})

	t.Run("a 404 Status's message is shown with what to do, and no file is written", func(t *testing.T) {
		out := filepath.Join(dir, "uninjected.pb.gz")
		code, _, stderr := run(t, "", append([]string{"profile", "uninjected", "--heap", "-o", out}, kube...)...)
		t.Logf("stderr:\n%s", stderr)
		if code != exitUsage || !strings.Contains(stderr, "shop/uninjected: the pod has no gopherscope sidecar with a gs-diagnostics port") ||
			!strings.Contains(stderr, "gopherscope check -n shop uninjected") {
			t.Errorf("exit code %d, stderr %q; want 2, the server's message and the check hint", code, stderr)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists: %v", out, err)
		}
	})

	t.Run("a 403 for the impersonated user names the ClusterRole to ask for", func(t *testing.T) {
		code, _, stderr := run(t, "", append([]string{"profile", "web-1", "--heap", "-o", filepath.Join(dir, "bob.pb.gz"), "--as", "bob"}, kube...)...)
		t.Logf("stderr:\n%s", stderr)
		if code != exitUsage || !strings.Contains(stderr, "forbidden: RBAC grants no get on it") || !strings.Contains(stderr, profilesClusterRole+" in namespace shop") {
			t.Errorf("exit code %d, stderr %q", code, stderr)
		}
	})

	for _, pod := range []string{"cut", "short"} {
		t.Run("a stream that ends early leaves no file: "+pod, func(t *testing.T) {
			sub := t.TempDir()
			out := filepath.Join(sub, "heap.pb.gz")
			if err := os.WriteFile(filepath.Join(sub, "keep"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := run(t, "", append([]string{"profile", pod, "--heap", "-o", out}, kube...)...)
			t.Logf("stderr:\n%s", stderr)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, "heap.pb.gz not written") {
				t.Errorf("exit code %d, stdout %q, stderr %q; want 2 and the file not written", code, stdout, stderr)
			}
			if diff := cmp.Diff([]string{"keep"}, filesIn(t, sub)); diff != "" {
				t.Errorf("files left (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("an interrupted download (Ctrl-C) leaves no file", func(t *testing.T) {
		sub := t.TempDir()
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		var stdout, stderr bytes.Buffer
		code := Main(ctx, "gopherscope", append([]string{"profile", "slow", "--heap", "-o", filepath.Join(sub, "heap.pb.gz")}, kube...), Streams{Out: &stdout, ErrOut: &stderr})
		if code != exitUsage || !strings.Contains(stderr.String(), fmt.Sprintf("shop/slow: interrupted after %d bytes;", len(heap)/2)) {
			t.Errorf("exit code %d, stderr %q; want 2 and the interruption", code, stderr.String())
		}
		if files := filesIn(t, sub); len(files) != 0 {
			t.Errorf("files left: %q", files)
		}
	})

	t.Run("a goroutine dump goes to stdout as the app wrote it", func(t *testing.T) {
		seen = nil
		code, stdout, stderr := run(t, "", append([]string{"goroutines", "web-1", "--debug", "2"}, kube...)...)
		if code != 0 || stdout != string(goroutines) {
			t.Errorf("exit code %d, stdout is %d bytes (want the %d served), stderr %q", code, len(stdout), len(goroutines), stderr)
		}
		if len(seen) != 1 || seen[0].query.Get("debug") != "2" {
			t.Errorf("requests %+v, want one with debug=2", seen)
		}
	})

	t.Run("a trace is written whole", func(t *testing.T) {
		seen = nil
		out := filepath.Join(dir, "trace.out")
		code, stdout, stderr := run(t, "", append([]string{"trace", "web-1", "--seconds", "5", "-o", out}, kube...)...)
		if code != 0 {
			t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
		}
		got, err := os.ReadFile(out)
		if err != nil || !bytes.Equal(got, traceData) {
			t.Errorf("the file has %d bytes (%v), want the %d served", len(got), err, len(traceData))
		}
		if len(seen) != 1 || seen[0].query.Get("seconds") != "5" || !strings.Contains(stdout, "go tool trace "+out) {
			t.Errorf("requests %+v, stdout %q", seen, stdout)
		}
	})

	t.Run("bad input is a usage error without a request", func(t *testing.T) {
		before := agg.requests.Load()
		for _, args := range [][]string{
			{"profile", "web-1", "--heap", "--allocs", "-o", filepath.Join(dir, "x")},
			{"profile", "web-1", "--heap"},
			{"profile", "--heap", "-o", filepath.Join(dir, "x")},
			{"profile", "web-1", "--cpu", "0s", "-o", filepath.Join(dir, "x")},
			{"goroutines", "web-1", "--debug", "0"},
			{"goroutines", "web-1", "--debug", "3"},
			{"trace", "web-1", "--seconds", "46", "-o", filepath.Join(dir, "x")},
			{"trace", "ns/web-1", "-o", filepath.Join(dir, "x")},
		} {
			code, stdout, stderr := run(t, "", append(args, kube...)...)
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, "See 'gopherscope help") {
				t.Errorf("%q: exit code %d, stdout %q, stderr %q; want a usage error", args, code, stdout, stderr)
			}
		}
		if agg.requests.Load() != before {
			t.Errorf("the server was asked")
		}
		if slices.Contains(filesIn(t, dir), "x") {
			t.Errorf("x was written")
		}
	})
}

// parseProfileFile parses a written profile with pprof's own parser.
func parseProfileFile(t *testing.T, path string) *profile.Profile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// firstSummaryRow is the function of the summary's first row.
func firstSummaryRow(t *testing.T, stdout string) string {
	t.Helper()
	lines := strings.Split(stdout, "\n")
	for i, line := range lines {
		if strings.Contains(line, "FLAT%") && i+1 < len(lines) {
			fields := strings.Fields(lines[i+1])
			return fields[len(fields)-1]
		}
	}
	t.Fatalf("no summary table in:\n%s", stdout)
	return ""
}
