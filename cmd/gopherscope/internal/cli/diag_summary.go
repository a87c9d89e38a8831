package cli

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/google/pprof/profile"
)

// summaryFunctions is how many functions the summary lists.
const summaryFunctions = 10

// readProfile parses a pprof file (gzipped or not).
func readProfile(path string) (*profile.Profile, error) {
	f, err := os.Open(path) //nolint:gosec // the user's -o file, just written
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("not a pprof profile: %w", err)
	}
	return p, nil
}

// checkProfile is a download check: the file must parse as a profile.
func checkProfile(path string) error {
	_, err := readProfile(path)
	return err
}

// funcValue is one function's share of a profile.
type funcValue struct {
	name      string
	flat, cum int64
}

// writeSummary prints the top functions of the profile at path by flat
// value of the sample type named want (the profile's default if it has
// none of that name), as `go tool pprof -top` does.
func writeSummary(w io.Writer, path, want string) error {
	p, err := readProfile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	index := sampleIndex(p, want)
	if index < 0 {
		_, err := fmt.Fprintln(w, "The profile has no samples.")
		return err
	}
	st := p.SampleType[index]
	funcs, total := functionValues(p, index)
	if total == 0 || len(funcs) == 0 {
		_, err := fmt.Fprintf(w, "No %s recorded: the app did nothing of the kind meanwhile.\n", st.Type)
		return err
	}
	shown := funcs[:min(summaryFunctions, len(funcs))]
	_, _ = fmt.Fprintf(w, "Top %d of %d functions by %s (%s total):\n", len(shown), len(funcs), st.Type, quantity(total, st.Unit))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	_, _ = fmt.Fprintln(tw, "FLAT\tFLAT%\tCUM\tCUM%\t\t")
	for _, f := range shown {
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t%s\n", quantity(f.flat, st.Unit), percent(f.flat, total),
			quantity(f.cum, st.Unit), percent(f.cum, total), f.name)
	}
	return tw.Flush()
}

// sampleIndex is the index of the sample type named want, else the
// profile's default one, else the last; -1 when there is none.
func sampleIndex(p *profile.Profile, want string) int {
	for _, name := range []string{want, p.DefaultSampleType} {
		for i, st := range p.SampleType {
			if name != "" && st.Type == name {
				return i
			}
		}
	}
	return len(p.SampleType) - 1
}

// functionValues sums each function's flat value (its samples' innermost
// frame) and cumulative value (samples with it anywhere on the stack), the
// largest flat first.
func functionValues(p *profile.Profile, index int) ([]funcValue, int64) {
	byName := map[string]*funcValue{}
	var total int64
	for _, s := range p.Sample {
		v := s.Value[index]
		total += v
		seen := map[string]bool{}
		for depth, loc := range s.Location {
			for j, line := range loc.Line {
				name := "?"
				if line.Function != nil {
					name = line.Function.Name
				}
				f := byName[name]
				if f == nil {
					f = &funcValue{name: name}
					byName[name] = f
				}
				if depth == 0 && j == 0 { // Line[0] is the innermost, inlined, frame
					f.flat += v
				}
				if !seen[name] {
					seen[name] = true
					f.cum += v
				}
			}
		}
	}
	funcs := make([]funcValue, 0, len(byName))
	for _, f := range byName {
		funcs = append(funcs, *f)
	}
	slices.SortFunc(funcs, func(a, b funcValue) int {
		return cmp.Or(cmp.Compare(b.flat, a.flat), cmp.Compare(b.cum, a.cum), cmp.Compare(a.name, b.name))
	})
	return funcs, total
}

// quantity formats a sample value in its unit.
func quantity(v int64, unit string) string {
	switch unit {
	case "bytes":
		return binaryBytes(float64(v)) + "B"
	case "nanoseconds":
		return seconds(time.Duration(v).Seconds())
	}
	return strconv.FormatInt(v, 10)
}

// percent is part's share of total.
func percent(part, total int64) string {
	return strconv.FormatFloat(100*float64(part)/float64(total), 'f', 1, 64) + "%"
}
