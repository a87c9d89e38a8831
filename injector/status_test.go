package injector

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/config"
)

// TestStatusRecordsTheWarnings: the warnings of an injection reach the pod
// itself, so whoever reads the pod later sees what the creator (often a
// controller) was told.
func TestStatusRecordsTheWarnings(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		want        []string
	}{
		{
			name:        "a pod without problems has no warnings in its status",
			annotations: map[string]string{config.AnnotationPort: "6060"},
		},
		{
			name: "an invalid annotation and the user's own prometheus annotations are both recorded, in the response's order",
			annotations: map[string]string{
				config.AnnotationInterval:         "fast",
				config.AnnotationPrometheusScrape: "false",
			},
			want: []string{
				`gopherscope.io/interval: "fast" is not a duration; using the default 10s`,
				"the pod's own prometheus.io/* annotations are left as they are, so they do not point at the sidecar (port 9184, path /metrics); scrape it with a PodMonitor on port gs-metrics (the chart has one)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := typicalPod()
			pod.Annotations = tc.annotations
			out, warnings, d := Inject(pod, Namespace{Offline: true}, config.Default(testVersion))
			if d.Action != ActionInject {
				t.Fatalf("decision %+v, want inject", d)
			}
			if diff := cmp.Diff(tc.want, warnings); diff != "" {
				t.Errorf("returned warnings (-want +got):\n%s", diff)
			}
			st, err := ParseStatus(out.Annotations[config.AnnotationStatus])
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(warnings, st.Warnings); diff != "" {
				t.Errorf("the status's warnings differ from the returned ones (-returned +status):\n%s", diff)
			}
		})
	}
}
