package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// verdict is a figure's standing against its target.
type verdict int

const (
	noTarget verdict = iota
	met
	missed
)

func (v verdict) String() string {
	switch v {
	case met:
		return "ok"
	case missed:
		return "MISS"
	default:
		return ""
	}
}

// judge is met when ok, else missed.
func judge(ok bool) verdict {
	if ok {
		return met
	}
	return missed
}

// row is one line of the table.
type row struct {
	group, figure, value, floor, ratio, target string
	verdict                                    verdict
}

// table is the report.
type table struct {
	rows []row
}

func (t *table) add(r row) { t.rows = append(t.rows, r) }

// misses counts the figures that missed their target.
func (t *table) misses() int {
	n := 0
	for _, r := range t.rows {
		if r.verdict == missed {
			n++
		}
	}
	return n
}

// summary is the report's last line: "N of M targets met", and which
// figures missed theirs.
func (t *table) summary() string {
	targets := 0
	var misses []string
	for _, r := range t.rows {
		switch r.verdict {
		case met:
			targets++
		case missed:
			targets++
			misses = append(misses, r.group+": "+r.figure)
		}
	}
	line := fmt.Sprintf("%d of %d targets met", targets-len(misses), targets)
	if len(misses) > 0 {
		line += "; misses: " + strings.Join(misses, "; ")
	}
	return line
}

// print writes the table aligned for a terminal.
func (t *table) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := &printer{w: tw}
	p.printf("GROUP\tFIGURE\tVALUE\tFLOOR\tVS FLOOR\tTARGET\t\n")
	for _, r := range t.rows {
		p.printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.group, r.figure, r.value, r.floor, r.ratio, r.target, r.verdict)
	}
	if p.err != nil {
		return p.err
	}
	return tw.Flush()
}

// markdown writes the table as GitHub Markdown.
func (t *table) markdown(w *strings.Builder) {
	w.WriteString("| group | figure | value | floor | vs floor | target | |\n")
	w.WriteString("|---|---|---|---|---|---|---|\n")
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, r := range t.rows {
		v := r.verdict.String()
		if r.verdict == missed {
			v = "**MISS**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n",
			esc(r.group), esc(r.figure), esc(r.value), esc(r.floor), esc(r.ratio), esc(r.target), v)
	}
}

// formatNs prints a duration given in nanoseconds with a readable unit.
func formatNs(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	default:
		return fmt.Sprintf("%.2f s", ns/1e9)
	}
}

// ratio formats a/b as "×N.NN".
func ratio(a, b float64) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("×%.2f", a/b)
}
