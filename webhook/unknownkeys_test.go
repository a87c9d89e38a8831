package webhook

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/injector"
)

func TestAMisspelledKeyIsAnAdmissionWarningNamingTheNearestKey(t *testing.T) {
	h, _ := newTestHandler(t, testConfig(nil))
	raw := podJSON(map[string]string{"gopherscope.io/intervall": "30s"}, map[string]string{"gopherscope.io/ports": "7070"})
	status, review := serve(t, h, reviewJSON(t, podRequest("shop", raw)))
	resp := review.Response
	if status != 200 || !resp.Allowed || len(resp.Patch) == 0 {
		t.Fatalf("HTTP %d, allowed %v, result %+v; want the pod injected", status, resp.Allowed, resp.Result)
	}
	want := []string{
		"label gopherscope.io/ports is not a gopherscope key and is ignored; did you mean the annotation gopherscope.io/port?",
		"annotation gopherscope.io/intervall is not a gopherscope key and is ignored; did you mean gopherscope.io/interval?",
	}
	if diff := cmp.Diff(want, resp.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	pod, _ := applyPatch(t, raw, resp.Patch)
	st, err := injector.ParseStatus(pod.Annotations["gopherscope.io/status"])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, st.Warnings); diff != "" {
		t.Errorf("status annotation's warnings (-want +got):\n%s", diff)
	}
}
