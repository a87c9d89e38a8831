package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// options are the command's flags, and SOURCE_DATE_EPOCH as a time.
type options struct {
	version, revision string
	images, platforms []string
	binDir, outDir    string
	created           time.Time
}

// parseOptions reads the flags in args; sourceDateEpoch is $SOURCE_DATE_EPOCH.
func parseOptions(args []string, sourceDateEpoch string) (options, error) {
	var o options
	var images, platforms string
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	fs.StringVar(&o.version, "version", "", "image tag and version label (required)")
	fs.StringVar(&o.revision, "revision", "", "source commit, for the revision label")
	fs.StringVar(&images, "images", "webhook,diagnostics,sidecar", "comma-separated images to build")
	fs.StringVar(&platforms, "platforms", "linux/amd64,linux/arm64", "comma-separated os/arch platforms")
	fs.StringVar(&o.binDir, "bin-dir", "dist/bin", "directory of the static binaries, as <os>_<arch>/<name>")
	fs.StringVar(&o.outDir, "out", "dist/images", "directory the archives are written to")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.images, o.platforms = strings.Split(images, ","), strings.Split(platforms, ",")
	if o.version == "" {
		return o, errors.New("--version is required")
	}
	secs, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
	if err != nil {
		return o, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want Unix seconds, e.g. $(git log -1 --format=%%ct), so builds are reproducible", sourceDateEpoch)
	}
	o.created = time.Unix(secs, 0).UTC()
	return o, nil
}

func main() {
	opts, err := parseOptions(os.Args[1:], os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(2)
	}
	if err := run(opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

// run builds every image of o and writes its archives, printing the digest of each
// image's index and of each platform's manifest to out.
func run(o options, out io.Writer) error {
	if err := os.MkdirAll(o.outDir, 0o755); err != nil { //nolint:gosec // release artefacts are world-readable.
		return fmt.Errorf("create output directory: %w", err)
	}
	for _, name := range o.images {
		ref, idx, err := buildIndex(name, o)
		if err != nil {
			return fmt.Errorf("build %s: %w", name, err)
		}
		if err := writeArchives(o, name, ref, idx, out); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
