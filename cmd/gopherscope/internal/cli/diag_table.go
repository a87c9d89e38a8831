package cli

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/gopherscope/gopherscope/diagnostics/api"
)

// topSorts are the values --sort orders by, largest first.
var topSorts = map[string]func(*api.StatsResponse) *float64{
	"goroutines": func(s *api.StatsResponse) *float64 { return s.Goroutines },
	"heap":       func(s *api.StatsResponse) *float64 { return s.HeapInuseBytes },
	"gc":         func(s *api.StatsResponse) *float64 { return s.GCPerSecond },
	"alloc":      func(s *api.StatsResponse) *float64 { return s.AllocBytesPerSecond },
}

// sortKeys are --sort's values, sorted.
func sortKeys() []string {
	keys := make([]string, 0, len(topSorts))
	for k := range topSorts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sortRows orders rows by key, largest first, then by namespace and name;
// rows without the value (no answer, not exposed) come last.
func sortRows(rows []topRow, key string) {
	value := topSorts[key]
	slices.SortStableFunc(rows, func(a, b topRow) int {
		if value != nil {
			va, vb := sortValue(a, value), sortValue(b, value)
			if c := cmp.Compare(vb, va); c != 0 { // NaN (none) sorts smallest
				return c
			}
		}
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	})
}

// sortValue is the row's value for sorting; NaN when it has none.
func sortValue(r topRow, value func(*api.StatsResponse) *float64) float64 {
	if r.stats == nil || value(r.stats) == nil {
		return math.NaN()
	}
	return *value(r.stats)
}

// writeTop prints the rows as a table, and, on ErrOut, one line for each
// kind of problem that kept pods from answering.
func writeTop(s Streams, rows []topRow, withNamespace bool) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(s.ErrOut, "No injected pods found (pods with the gopherscope sidecar carry the label gopherscope.io/sidecar-version).")
		return err
	}
	tw := tabwriter.NewWriter(s.Out, 0, 8, 3, ' ', 0)
	header := "NAME\tGOROUTINES\tHEAP\tGC/S\tPAUSE-P99\tALLOC/S\tFINDINGS"
	if withNamespace {
		header = "NAMESPACE\t" + header
	}
	_, _ = fmt.Fprintln(tw, header)
	for _, r := range rows {
		if withNamespace {
			_, _ = fmt.Fprintf(tw, "%s\t", r.namespace)
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\n", r.name, strings.Join(cells(r), "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range problemNotes(rows) {
		_, _ = fmt.Fprintln(s.ErrOut, n)
	}
	return nil
}

// cells are a row's values after its name.
func cells(r topRow) []string {
	switch {
	case r.stats == nil:
		return []string{"<" + r.problem + ">"}
	case r.stats.Time.IsZero():
		return []string{"<no sample yet>"}
	}
	st := r.stats
	out := []string{
		orDash(st.Goroutines, func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }),
		orDash(st.HeapInuseBytes, binaryBytes),
		orDash(st.GCPerSecond, func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }),
		orDash(st.GCPauseP99Seconds, seconds),
		orDash(st.AllocBytesPerSecond, binaryBytes),
	}
	var kinds []string
	if !st.TargetUp {
		kinds = append(kinds, "(app not answering)")
	}
	for _, f := range st.Findings {
		kinds = append(kinds, string(f.Kind))
	}
	if len(kinds) == 0 {
		kinds = []string{"-"}
	}
	return append(out, strings.Join(kinds, ","))
}

// orDash formats v, or "-" when the app does not expose it.
func orDash(v *float64, format func(float64) string) string {
	if v == nil || math.IsNaN(*v) {
		return "-"
	}
	return format(*v)
}

// binaryBytes formats a size as kubectl does: 512Ki, 87Mi, 1.5Gi.
func binaryBytes(v float64) string {
	units := []string{"", "Ki", "Mi", "Gi", "Ti"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v < 10 && i > 0 {
		return strconv.FormatFloat(v, 'f', 1, 64) + units[i]
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + units[i]
}

// seconds formats a duration in seconds with three significant digits.
func seconds(v float64) string {
	d := time.Duration(v * float64(time.Second))
	for unit := time.Nanosecond; unit < time.Second; unit *= 10 {
		if d < 1000*unit {
			return d.Round(unit).String()
		}
	}
	return d.Round(10 * time.Millisecond).String()
}

// problemOf names, in a few words, why a pod gave no stats.
func problemOf(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return "unreachable: " + lastPart(err.Error())
	}
	switch code := status.Status().Code; {
	case apiMissing(err):
		return "no diagnostics API"
	case code == http.StatusForbidden:
		return "forbidden"
	case code == http.StatusUnauthorized:
		return "unauthorized"
	case code == http.StatusNotFound:
		return "not found"
	case code == http.StatusTooManyRequests:
		return "rate limited"
	case code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		return "unreachable: " + lastPart(status.Status().Message)
	default:
		return fmt.Sprintf("error %d", code)
	}
}

// lastPart is the innermost cause of an error message ("connection
// refused"), at most 40 characters.
func lastPart(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	if r := []rune(msg); len(r) > 40 {
		msg = string(r[:39]) + "…"
	}
	return msg
}

// problemNotes say, for each problem, how many pods had it and the full
// message of the first.
func problemNotes(rows []topRow) []string {
	type group struct {
		count int
		first topRow
	}
	var order []string
	groups := map[string]*group{}
	for _, r := range rows {
		if r.err == nil {
			continue
		}
		g, ok := groups[r.problem]
		if !ok {
			g = &group{first: r}
			groups[r.problem] = g
			order = append(order, r.problem)
		}
		g.count++
	}
	notes := make([]string, 0, len(order))
	for _, p := range order {
		g := groups[p]
		pods := "1 pod"
		if g.count > 1 {
			pods = fmt.Sprintf("%d pods, the first:", g.count)
		}
		notes = append(notes, fmt.Sprintf("<%s> %s %v", p, pods, g.first.err))
	}
	return notes
}
