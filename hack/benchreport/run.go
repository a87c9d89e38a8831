package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// run measures everything, prints the table and writes the Markdown.
func run(ctx context.Context, opts *options, out io.Writer) (err error) {
	data, err := os.ReadFile(opts.GoBench)
	if err != nil {
		return fmt.Errorf("read Go benchmark output: %w", err)
	}
	benches, err := parseGoBench(bytes.NewReader(data))
	if err != nil {
		return err
	}
	workDir := opts.WorkDir
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "gopherscope-bench-"); err != nil {
			return fmt.Errorf("create work dir: %w", err)
		}
	} else if err := os.MkdirAll(workDir, 0o750); err != nil {
		return fmt.Errorf("create work dir: %w", err)
	}
	p := &printer{w: out}
	logf := func(format string, args ...any) { p.printf("bench: "+format+"\n", args...) }
	defer func() {
		if err == nil && !opts.Keep && opts.WorkDir == "" {
			err = os.RemoveAll(workDir)
		} else {
			logf("logs kept in %s", workDir)
		}
	}()

	t := &table{}
	if err := handlerRows(t, benches); err != nil {
		return err
	}
	parts := strings.Split(opts.Parts, ",")
	if slices.Contains(parts, "webhook") {
		if err := benchWebhook(ctx, opts, filepath.Join(workDir, "webhook"), t, logf); err != nil {
			return err
		}
	}
	if slices.Contains(parts, "sidecar") {
		if err := benchSidecar(ctx, opts, filepath.Join(workDir, "sidecar"), benches, t, logf); err != nil {
			return err
		}
	}

	if slices.Contains(parts, "diagnostics") {
		if err := benchDiagnostics(ctx, opts, filepath.Join(workDir, "diagnostics"), t, logf); err != nil {
			return err
		}
	}

	header := machine()
	p.printf("\n%s\n\n", header)
	if err := t.print(out); err != nil {
		return fmt.Errorf("print the table: %w", err)
	}
	if opts.Markdown != "" {
		var md strings.Builder
		md.WriteString(header + "\n\n")
		t.markdown(&md)
		if err := os.WriteFile(opts.Markdown, []byte(md.String()), 0o600); err != nil {
			return fmt.Errorf("write markdown: %w", err)
		}
		logf("table written to %s", opts.Markdown)
	}
	p.printf("\n%s\n", t.summary())
	if t.misses() > 0 && opts.FailOnMiss {
		return errors.New("targets missed (--fail-on-miss)")
	}
	return p.err
}

// machine describes where and when the figures were taken.
func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	kernel := "unknown kernel"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load average " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%s: %s, %d CPUs, %s, %s%s", time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpu, runtime.NumCPU(), kernel, runtime.Version(), load)
}
