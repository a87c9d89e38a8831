package injector_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gopherscope/gopherscope/injector"
)

func TestUnknownKeyWarnings(t *testing.T) {
	long := "gopherscope.io/" + strings.Repeat("x", 400)
	many := map[string]string{}
	for i := range 12 {
		many[fmt.Sprintf("gopherscope.io/typo-%02d", i)] = ""
	}
	for _, tc := range []struct {
		name                string
		labels, annotations map[string]string
		want                []string
	}{
		{
			name:        "known keys and other prefixes say nothing",
			labels:      map[string]string{"gopherscope.io/inject": "enabled", "gopherscope.io/sidecar-version": "v1", "app": "web"},
			annotations: map[string]string{"gopherscope.io/port": "6060", "gopherscope.io/inject": "false", "example.com/gopherscope.io/x": ""},
		},
		{
			name:        "a misspelled annotation names the nearest annotation",
			annotations: map[string]string{"gopherscope.io/ports": "7070", "gopherscope.io/intervall": "5s"},
			want: []string{
				"annotation gopherscope.io/intervall is not a gopherscope key and is ignored; did you mean gopherscope.io/interval?",
				"annotation gopherscope.io/ports is not a gopherscope key and is ignored; did you mean gopherscope.io/port?",
			},
		},
		{
			name:   "a misspelled label names the nearest label",
			labels: map[string]string{"gopherscope.io/injetc": "enabled"},
			want:   []string{"label gopherscope.io/injetc is not a gopherscope key and is ignored; did you mean gopherscope.io/inject?"},
		},
		{
			name:        "an annotation key used as a label, and the reverse, say which they are",
			labels:      map[string]string{"gopherscope.io/interval": "5s"},
			annotations: map[string]string{"gopherscope.io/component": "webhook"},
			want: []string{
				"label gopherscope.io/interval is ignored: gopherscope reads gopherscope.io/interval as an annotation, not as a label",
				"annotation gopherscope.io/component is ignored: gopherscope reads gopherscope.io/component as a label, not as an annotation",
			},
		},
		{
			name:        "a key too long to be valid gets no suggestion",
			annotations: map[string]string{long: ""},
			want:        []string{"annotation " + long[:317] + "… is not a gopherscope key and is ignored"},
		},
		{
			name:        "past ten unknown keys the rest are counted",
			annotations: many,
			want: append(func() []string {
				var w []string
				for i := range 10 {
					w = append(w, fmt.Sprintf("annotation gopherscope.io/typo-%02d is not a gopherscope key and is ignored; did you mean gopherscope.io/port?", i))
				}
				return w
			}(), "2 more labels or annotations under gopherscope.io/ are not gopherscope keys and are ignored"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := injector.UnknownKeyWarnings(tc.labels, tc.annotations)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
