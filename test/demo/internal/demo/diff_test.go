package demo

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

func TestDescribeChangesSummarisesWhatTheInjectorAdded(t *testing.T) {
	submitted := demoPod("shop")
	cfg := config.Default("v1.2.3")
	cfg.NativeSidecar = config.NativeSidecarAlways
	stored, _, decision := injector.Inject(submitted.DeepCopy(), injector.Namespace{
		Name: "shop", Labels: map[string]string{config.KeyInject: config.InjectEnabled},
	}, cfg)
	if decision.Action != injector.ActionInject {
		t.Fatalf("the demo pod was not injected: %+v", decision)
	}
	got := describeChanges(submitted, stored)
	text := strings.Join(got, "\n")
	for _, want := range []string{
		"  container       app (ghcr.io/gopherscope/demo-app:latest)\n+ env             GOMEMLIMIT=241591910  (on app)",
		"+ native sidecar  gopherscope-sidecar  (an init container with restartPolicy: Always)",
		"image      ghcr.io/gopherscope/sidecar:v1.2.3",
		"--interval=1s",
		"env        POD_NAME=(metadata.name) POD_NAMESPACE=(metadata.namespace)",
		"ports      gs-metrics 9184/TCP",
		"resources  requests cpu 10m memory 32Mi, limits cpu 100m memory 64Mi",
		"  annotation      gopherscope.io/interval: 1s  yours, kept",
		"  annotation      gopherscope.io/tune: gomemlimit  yours, kept",
		"+ annotation      prometheus.io/scrape: true",
		"+ annotation      kubectl.kubernetes.io/default-container: app",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the description lacks %q:\n%s", want, text)
		}
	}
	for _, line := range got {
		if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "~ ") {
			t.Errorf("the injector removed or changed something of the user's: %q", line)
		}
		if len(line) > 160 && !strings.Contains(line, config.AnnotationStatus) {
			t.Errorf("line too long to read (%d characters): %q", len(line), line)
		}
	}
}

func TestDescribeMapMarksAddedChangedRemovedAndKept(t *testing.T) {
	got := describeMap("annotation",
		map[string]string{"kept": "1", "changed": "old", "removed": "x"},
		map[string]string{"kept": "1", "changed": "new", "added": "y"})
	want := []string{
		"+ annotation      added: y",
		"~ annotation      changed: new (you wrote old)",
		"  annotation      kept: 1  yours, kept",
		"- annotation      removed (removed!)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("describeMap (-want +got):\n%s", diff)
	}
}

func TestWrapKeepsLinesWithinTheWidth(t *testing.T) {
	got := wrap("args ", []string{"--aaaa", "--bbbb", "--cccc"}, 17)
	want := []string{"args --aaaa", "     --bbbb", "     --cccc"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wrap (-want +got):\n%s", diff)
	}
}
