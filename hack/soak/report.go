package main

import (
	"io"
	"text/tabwriter"

	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

// printReport prints what each scenario held and every check; it returns
// the number of failed checks.
func printReport(out io.Writer, outcomes []*outcome, rate float64, opts *options) (int, error) {
	p := &printer{w: out}
	p.printf("\nwebhook soak: %.0f AdmissionReviews/s (typical pod, injected) over TLS on loopback, %d connections, %s per scenario\n\n",
		rate, opts.Connections, opts.Duration)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	t := &printer{w: tw}
	t.printf("scenario\trequests\tper second\terrors\tp50\tp99\tp99.9\tmax\tRSS start\tRSS peak\tRSS end\tCPU\t\n")
	for _, o := range outcomes {
		r, m := o.result, o.memory
		t.printf("%s\t%d\t%.0f\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f%%\t\n", o.name, r.Requests, r.Throughput(), r.ErrorCount(),
			loadgen.FormatDuration(r.Quantile(0.5)), loadgen.FormatDuration(r.Quantile(0.99)), loadgen.FormatDuration(r.Quantile(0.999)),
			loadgen.FormatDuration(r.Quantile(1)), rig.MiB(m.StartRSS), rig.MiB(m.PeakRSS), rig.MiB(m.EndRSS),
			100*m.CPU.Seconds()/m.Elapsed.Seconds())
	}
	if t.err == nil {
		t.err = tw.Flush()
	}
	p.printf("\n")
	failed := 0
	for _, o := range outcomes {
		for _, c := range o.checks {
			mark := "PASS"
			if !c.ok {
				mark = "FAIL"
				failed++
			}
			p.printf("%s  %-9s %s\n      %s\n", mark, o.name, c.what, c.detail)
		}
	}
	if failed == 0 {
		p.printf("\nall checks passed\n")
	} else {
		p.printf("\n%d checks FAILED\n", failed)
	}
	if t.err != nil {
		return failed, t.err
	}
	return failed, p.err
}
