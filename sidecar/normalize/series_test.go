package normalize

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

	"github.com/gopherscope/gopherscope/sidecar/source"
)

type familyShape struct {
	Name, Help string
	Type       dto.MetricType
}

func shapes(fams []*dto.MetricFamily) []familyShape {
	out := make([]familyShape, 0, len(fams))
	for _, f := range fams {
		out = append(out, familyShape{f.GetName(), f.GetHelp(), f.GetType()})
	}
	slices.SortFunc(out, func(a, b familyShape) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// TestSeriesMatchClientGolang checks every series derived from expvar and the
// pprof index against what client_golang's own Go collector exposes: the
// same names, types and help texts, so dashboards cannot tell the difference.
func TestSeriesMatchClientGolang(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	real, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	realByName := map[string]familyShape{}
	for _, s := range shapes(real) {
		realByName[s.Name] = s
	}

	ours := fromExpvar(&source.ExpvarData{})
	ours = append(ours, fromProfiles(&source.ProfileCounts{HasGoroutines: true, HasThreads: true})...)
	var memstats, counters int
	for _, s := range shapes(ours) {
		want, ok := realByName[s.Name]
		if !ok {
			t.Errorf("client_golang has no series %s", s.Name)
			continue
		}
		if diff := cmp.Diff(want, s); diff != "" {
			t.Errorf("series %s (-client_golang +ours):\n%s", s.Name, diff)
		}
		if strings.HasPrefix(s.Name, "go_memstats_") && s.Name != LastGCTime {
			memstats++
			if s.Type == dto.MetricType_COUNTER {
				counters++
			}
		}
	}
	if memstats != 21 || counters != 3 {
		t.Errorf("%d go_memstats_* series (%d counters), want 21 (3 counters)", memstats, counters)
	}
	// Every go_memstats_* series client_golang has, we have too.
	for name := range realByName {
		if strings.HasPrefix(name, "go_memstats_") && !slices.ContainsFunc(ours, func(f *dto.MetricFamily) bool { return f.GetName() == name }) {
			t.Errorf("client_golang's %s is not derived from expvar", name)
		}
	}
}
