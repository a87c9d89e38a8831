package source

import (
	"testing"

	"github.com/prometheus/common/expfmt"
)

func TestLabelsKeyTellsSeriesApartButNotTheirBucketsOrQuantiles(t *testing.T) {
	tests := []struct {
		name string
		a, b string // what follows two sample lines' names
		same bool
	}{
		{name: "two buckets of one histogram series", a: `{path="/",le="0.1"} 1`, b: `{path="/",le="+Inf"} 3`, same: true},
		{name: "a bucket and the series' _sum", a: `{path="/",le="0.1"} 1`, b: `{path="/"} 3`, same: true},
		{name: "two quantiles of one summary series", a: `{quantile="0"} 1`, b: `{quantile="1"} 2`, same: true},
		{name: "unlabelled samples", a: ` 1`, b: " 2 1700000000", same: true},
		{name: "two label values", a: `{path="/a"} 1`, b: `{path="/b"} 1`},
		{name: "a quoted comma and brace do not end the value", a: `{v="x,}",le="1"} 1`, b: `{v="x,}",le="2"} 1`, same: true},
		{name: "a quoted comma and brace are part of the value", a: `{v="x,}"} 1`, b: `{v="x,]"} 1`},
		{name: "an escaped quote does not end the value", a: `{v="a\",le=\"1"} 1`, b: `{v="a\",le=\"2"} 1`},
		{name: "a label called like le but longer", a: `{len="1"} 1`, b: `{len="2"} 1`},
	}
	s := newTextStream(expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if same := s.labelsKey([]byte(tt.a)) == s.labelsKey([]byte(tt.b)); same != tt.same {
				t.Errorf("same series: %v, want %v", same, tt.same)
			}
		})
	}
}
