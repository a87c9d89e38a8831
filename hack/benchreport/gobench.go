package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// goBench is one Go benchmark's figures, the median of its runs.
type goBench struct {
	NsPerOp     float64
	BytesPerOp  float64
	AllocsPerOp float64
	Runs        int
}

// benchLine matches a result line of `go test -bench`; the name loses its
// -GOMAXPROCS suffix.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parseGoBench reads `go test -bench -benchmem` output; a benchmark run
// several times (-count) gets the median of each figure.
func parseGoBench(r io.Reader) (map[string]goBench, error) {
	runs := map[string][]map[string]float64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		values := map[string]float64{}
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark %s: value %q: %w", m[1], fields[i], err)
			}
			values[fields[i+1]] = v
		}
		if _, ok := values["ns/op"]; !ok {
			return nil, fmt.Errorf("benchmark %s: no ns/op in %q", m[1], m[2])
		}
		runs[m[1]] = append(runs[m[1]], values)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	out := map[string]goBench{}
	for name, rs := range runs {
		out[name] = goBench{
			NsPerOp: median(rs, "ns/op"), BytesPerOp: median(rs, "B/op"), AllocsPerOp: median(rs, "allocs/op"), Runs: len(rs),
		}
	}
	return out, nil
}

// median is the median of one unit's values over runs.
func median(runs []map[string]float64, unit string) float64 {
	var vs []float64
	for _, r := range runs {
		vs = append(vs, r[unit])
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}
