package main

import (
	"flag"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOptionsFromFlags(t *testing.T) {
	opts := defaultOptions("1700000000")
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	opts.AddFlags(fs)
	err := fs.Parse([]string{"--version", "v1.2.3", "--images", " sidecar ,", "--platforms", "linux/arm64",
		"--bin-dir", "/b", "--out", "/o", "--revision", "abc"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Options{
		Version: "v1.2.3", Images: commaList{"sidecar"}, Platforms: commaList{"linux/arm64"},
		BinDir: "/b", OutDir: "/o", Repository: "ghcr.io/gopherscope",
		SourceURL: "https://github.com/gopherscope/gopherscope", Revision: "abc", SourceDateEpoch: "1700000000",
	}
	if diff := cmp.Diff(want, opts); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	if err := opts.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(o *Options)
		want []string // substrings of the error
	}{
		{name: "a missing version is refused", edit: func(o *Options) { o.Version = "" }, want: []string{"--version is required"}},
		{name: "a version that is not an image tag is refused", edit: func(o *Options) { o.Version = "v1.0.0+build.1" },
			want: []string{`version "v1.0.0+build.1" is not a valid image tag`}},
		{name: "an unknown image is refused", edit: func(o *Options) { o.Images = commaList{"webhook", "cli"} },
			want: []string{`unknown image "cli" (known: webhook, sidecar, demo-app, pause)`}},
		{name: "an image listed twice is refused", edit: func(o *Options) { o.Images = commaList{"sidecar", "sidecar"} },
			want: []string{`image "sidecar" is listed twice`}},
		{name: "no image at all is refused", edit: func(o *Options) { o.Images = nil }, want: []string{"--images names no image"}},
		{name: "a platform other than linux is refused", edit: func(o *Options) { o.Platforms = commaList{"windows/amd64"} },
			want: []string{`platform "windows/amd64": want linux/<arch>`}},
		{name: "an architecture we cannot check is refused", edit: func(o *Options) { o.Platforms = commaList{"linux/mips"} },
			want: []string{`platform "linux/mips": unsupported architecture (supported: 386, amd64, arm, arm64, ppc64le, riscv64, s390x)`}},
		{name: "a platform listed twice is refused", edit: func(o *Options) { o.Platforms = commaList{"linux/amd64", "linux/amd64"} },
			want: []string{`platform "linux/amd64" is listed twice`}},
		{name: "a missing SOURCE_DATE_EPOCH is refused with the way to set it", edit: func(o *Options) { o.SourceDateEpoch = "" },
			want: []string{"set SOURCE_DATE_EPOCH or --source-date-epoch"}},
		{name: "a SOURCE_DATE_EPOCH that is not Unix seconds is refused", edit: func(o *Options) { o.SourceDateEpoch = "2024-01-01" },
			want: []string{`source date epoch "2024-01-01": want Unix seconds`}},
		{name: "every mistake is reported at once", edit: func(o *Options) { o.Version = ""; o.OutDir = ""; o.SourceDateEpoch = "-1" },
			want: []string{"--version is required", "--bin-dir and --out must not be empty", `source date epoch "-1"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions("/bin-dir", "/out")
			tc.edit(opts)
			err := opts.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tc.want)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}
