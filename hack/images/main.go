package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	opts := defaultOptions(os.Getenv("SOURCE_DATE_EPOCH"))
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	opts.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if err := opts.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, opts, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

// run builds every image of opts for every platform and writes the archives,
// printing one summary line per image and platform to out.
func run(ctx context.Context, opts *Options, out io.Writer) error {
	platforms, err := opts.platforms()
	if err != nil {
		return err
	}
	meta, err := opts.metadata()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil { //nolint:gosec // release artefacts are meant to be world-readable.
		return fmt.Errorf("create output directory %q: %w", opts.OutDir, err)
	}
	for _, name := range opts.Images {
		if err := ctx.Err(); err != nil {
			return err
		}
		spec, err := knownImage(name)
		if err != nil {
			return err
		}
		built, err := buildAll(spec, platforms, opts.BinDir, meta)
		if err != nil {
			return err
		}
		if err := writeArchives(opts.OutDir, built, meta); err != nil {
			return err
		}
		if err := printSummary(out, built); err != nil {
			return err
		}
	}
	return nil
}
