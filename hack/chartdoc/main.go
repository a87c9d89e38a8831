package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// options are chartdoc's command-line flags.
type options struct {
	chartDir string
	check    bool
}

func (o *options) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.chartDir, "chart", "charts/gopherscope", "the chart directory")
	fs.BoolVar(&o.check, "check", false, "only check that README.md is up to date (exit 1 if not)")
}

func main() {
	var opts options
	opts.addFlags(flag.CommandLine)
	flag.Parse()
	if err := run(opts); err != nil {
		fmt.Fprintln(os.Stderr, "chartdoc:", err)
		os.Exit(1)
	}
}

func run(opts options) error {
	readme, err := Generate(opts.chartDir)
	if err != nil {
		return err
	}
	path := filepath.Join(filepath.Clean(opts.chartDir), "README.md")
	if opts.check {
		current, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read %q: %w", path, err)
		}
		if string(current) != string(readme) {
			return fmt.Errorf("%s is out of date: run go run ./hack/chartdoc --chart %s", path, opts.chartDir)
		}
		return nil
	}
	if err := os.WriteFile(path, readme, 0o600); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}
