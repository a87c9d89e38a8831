package main

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options are the command's flags.
type Options struct {
	// Version is the release version: the image tag and the
	// org.opencontainers.image.version label (e.g. v0.1.0).
	Version string
	// Images are the images to build, by name (webhook, sidecar).
	Images commaList
	// Platforms are the os/arch pairs every image is built for.
	Platforms commaList
	// BinDir holds the static binaries as <BinDir>/<os>_<arch>/<name>.
	BinDir string
	// OutDir receives the archives.
	OutDir string
	// Repository is the registry path the images are named under
	// (<Repository>/<name>:<Version>).
	Repository string
	// SourceURL is the org.opencontainers.image.source label.
	SourceURL string
	// Revision is the source commit (org.opencontainers.image.revision);
	// empty leaves the label out.
	Revision string
	// SourceDateEpoch is the creation time of everything in the image, in
	// Unix seconds (https://reproducible-builds.org/specs/source-date-epoch/).
	SourceDateEpoch string
}

// defaultOptions returns the defaults; sourceDateEpoch is the environment's
// SOURCE_DATE_EPOCH, read by main.
func defaultOptions(sourceDateEpoch string) *Options {
	return &Options{
		Images:          commaList{"webhook", "sidecar"},
		Platforms:       commaList{"linux/amd64", "linux/arm64"},
		BinDir:          "dist/bin",
		OutDir:          "dist/images",
		Repository:      "ghcr.io/gopherscope",
		SourceURL:       "https://github.com/gopherscope/gopherscope",
		SourceDateEpoch: sourceDateEpoch,
	}
}

// AddFlags registers the options on fs.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Version, "version", o.Version, "release version: image tag and version label (required)")
	fs.Var(&o.Images, "images", "comma-separated images to build")
	fs.Var(&o.Platforms, "platforms", "comma-separated os/arch platforms")
	fs.StringVar(&o.BinDir, "bin-dir", o.BinDir, "directory holding <os>_<arch>/<name> static binaries")
	fs.StringVar(&o.OutDir, "out", o.OutDir, "directory the image archives are written to")
	fs.StringVar(&o.Repository, "repository", o.Repository, "registry path the images are named under")
	fs.StringVar(&o.SourceURL, "source-url", o.SourceURL, "org.opencontainers.image.source label")
	fs.StringVar(&o.Revision, "revision", o.Revision, "source commit for the revision label")
	fs.StringVar(&o.SourceDateEpoch, "source-date-epoch", o.SourceDateEpoch,
		"creation time in Unix seconds (default $SOURCE_DATE_EPOCH)")
}

// Validate reports every invalid option at once.
func (o *Options) Validate() error {
	var errs []error
	if o.Version == "" {
		errs = append(errs, errors.New("--version is required"))
	} else if _, err := name.NewTag(o.Repository+"/image:"+o.Version, name.StrictValidation); err != nil {
		errs = append(errs, fmt.Errorf("version %q is not a valid image tag under repository %q: %w", o.Version, o.Repository, err))
	}
	if len(o.Images) == 0 {
		errs = append(errs, errors.New("--images names no image"))
	}
	for i, img := range o.Images {
		if _, err := knownImage(img); err != nil {
			errs = append(errs, err)
		} else if slices.Contains(o.Images[:i], img) {
			errs = append(errs, fmt.Errorf("image %q is listed twice", img))
		}
	}
	if _, err := o.platforms(); err != nil {
		errs = append(errs, err)
	}
	if o.BinDir == "" || o.OutDir == "" {
		errs = append(errs, errors.New("--bin-dir and --out must not be empty"))
	}
	if _, err := o.metadata(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// platforms parses Platforms: linux only, each once, at least one.
func (o *Options) platforms() ([]v1.Platform, error) {
	if len(o.Platforms) == 0 {
		return nil, errors.New("--platforms names no platform")
	}
	var out []v1.Platform
	for _, s := range o.Platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return nil, fmt.Errorf("parse platform %q: %w", s, err)
		}
		if p.OS != "linux" || p.Architecture == "" || p.OSVersion != "" {
			return nil, fmt.Errorf("platform %q: want linux/<arch>", s)
		}
		if _, ok := elfMachines[p.Architecture]; !ok {
			return nil, fmt.Errorf("platform %q: unsupported architecture (supported: %s)", s, strings.Join(supportedArchitectures(), ", "))
		}
		if slices.ContainsFunc(out, p.Equals) {
			return nil, fmt.Errorf("platform %q is listed twice", s)
		}
		out = append(out, *p)
	}
	return out, nil
}

// metadata is what every image of this run is labelled with.
func (o *Options) metadata() (metadata, error) {
	if o.SourceDateEpoch == "" {
		return metadata{}, errors.New("set SOURCE_DATE_EPOCH or --source-date-epoch (e.g. $(git log -1 --format=%ct)) so builds are reproducible")
	}
	secs, err := strconv.ParseInt(o.SourceDateEpoch, 10, 64)
	if err != nil || secs < 0 || secs > 253402300799 { // at most 9999-12-31T23:59:59Z
		return metadata{}, fmt.Errorf("source date epoch %q: want Unix seconds between 0 and 253402300799", o.SourceDateEpoch)
	}
	return metadata{
		Version:    o.Version,
		Repository: o.Repository,
		SourceURL:  o.SourceURL,
		Revision:   o.Revision,
		Created:    time.Unix(secs, 0).UTC(),
	}, nil
}

// commaList is a flag holding a comma-separated list; setting it replaces
// the default.
type commaList []string

// String joins the list with commas.
func (l *commaList) String() string { return strings.Join(*l, ",") }

// Set replaces the list with the non-empty, trimmed items of s.
func (l *commaList) Set(s string) error {
	*l = nil
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}
