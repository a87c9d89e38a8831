package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDockerfileMatchesImages checks that the Dockerfile (which cannot be
// built here: there is no Docker daemon) describes the images this program
// builds: the same files, user, entrypoints, labels and build flags.
func TestDockerfileMatchesImages(t *testing.T) {
	root := repoRoot(t)
	stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))

	t.Run("the base stage is scratch with the nonroot user and rootfs", func(t *testing.T) {
		base := stages["base"]
		if base.from != "scratch" {
			t.Errorf("base stage is FROM %q, want scratch", base.from)
		}
		if got := base.args("USER"); !cmp.Equal(got, []string{nonrootUser}) {
			t.Errorf("base USER = %q, want [%s]", got, nonrootUser)
		}
		if got := base.args("WORKDIR"); !cmp.Equal(got, []string{"/"}) {
			t.Errorf("base WORKDIR = %q, want [/]", got)
		}
		var want []string
		err := fs.WalkDir(rootfs, "rootfs", func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				want = append(want, "hack/images/"+path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		copies := base.args("COPY")
		if len(copies) != 1 {
			t.Fatalf("base has COPY %q, want one COPY of rootfs", copies)
		}
		// The files keep the mode rootfsLayer gives them; /etc is made 0755 by both.
		fields := strings.Fields(copies[0])
		if len(fields) < 3 || fields[0] != "--chmod=0644" || fields[len(fields)-1] != "/etc/" {
			t.Fatalf("base COPY %s: want COPY --chmod=0644 <rootfs files> /etc/", copies[0])
		}
		got := slices.Sorted(slices.Values(fields[1 : len(fields)-1]))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("rootfs files the base stage copies (-hack/images +Dockerfile):\n%s", diff)
		}
	})

	for _, c := range imageCases {
		t.Run("the "+c.name+" stage matches the "+c.name+" image", func(t *testing.T) {
			stage, ok := stages[c.name]
			if !ok {
				t.Fatalf("no stage %q", c.name)
			}
			if stage.from != "base" {
				t.Errorf("stage %s is FROM %q, want base", c.name, stage.from)
			}
			var entrypoint []string
			if eps := stage.args("ENTRYPOINT"); len(eps) != 1 || json.Unmarshal([]byte(eps[0]), &entrypoint) != nil {
				t.Fatalf("stage %s ENTRYPOINT = %q, want one exec-form ENTRYPOINT", c.name, eps)
			}
			if want := []string{"/" + c.name}; !cmp.Equal(want, entrypoint) {
				t.Errorf("ENTRYPOINT = %q, want %q", entrypoint, want)
			}
			if got, want := stage.args("COPY"), []string{"--from=build /out/" + c.name + " /" + c.name}; !cmp.Equal(want, got) {
				t.Errorf("COPY = %q, want %q", got, want)
			}
			spec, err := knownImage(c.name)
			if err != nil {
				t.Fatal(err)
			}
			meta := metadata{Version: "${VERSION}", Revision: "${REVISION}", SourceURL: defaultOptions("").SourceURL}
			want := meta.annotations(spec)
			want["org.opencontainers.image.created"] = "${CREATED}"
			got := map[string]string{}
			for _, l := range stage.args("LABEL") {
				parseLabels(t, l, got)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("LABELs (-program +Dockerfile):\n%s", diff)
			}
		})
	}

	t.Run("the build stage uses the release build flags", func(t *testing.T) {
		runs := stages["build"].args("RUN")
		build := runs[len(runs)-1]
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-buildvcs=false", "./cmd/webhook", "./cmd/sidecar"} {
			if !strings.Contains(build, want) {
				t.Errorf("the build RUN lacks %q: %s", want, build)
			}
		}
		release, err := os.ReadFile(filepath.Join(root, "hack", "release.sh"))
		if err != nil {
			t.Fatal(err)
		}
		ldflags := regexp.MustCompile(`-ldflags "([^"]*)"`)
		inDockerfile, inRelease := ldflags.FindStringSubmatch(build), ldflags.FindSubmatch(release)
		if inDockerfile == nil || inRelease == nil {
			t.Fatalf("no -ldflags in the Dockerfile (%v) or in release.sh (%v)", inDockerfile != nil, inRelease != nil)
		}
		want := strings.ReplaceAll(string(inRelease[1]), "$VERSION", "${VERSION}")
		if inDockerfile[1] != want {
			t.Errorf("Dockerfile -ldflags %q, release.sh %q", inDockerfile[1], want)
		}
	})
}

// stage is one FROM … AS name stage of a Dockerfile.
type stage struct {
	from         string
	instructions [][2]string // keyword, arguments
}

// args returns the arguments of every instruction of the keyword.
func (s stage) args(keyword string) []string {
	var out []string
	for _, in := range s.instructions {
		if in[0] == keyword {
			out = append(out, in[1])
		}
	}
	return out
}

// parseDockerfile reads the stages of the Dockerfile at path by name.
func parseDockerfile(t *testing.T, path string) map[string]stage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]stage{}
	current := ""
	var line strings.Builder
	for raw := range strings.SplitSeq(string(data), "\n") {
		trimmed := strings.TrimSpace(raw)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			line.WriteString(cont + " ")
			continue
		}
		line.WriteString(trimmed)
		keyword, args, _ := strings.Cut(line.String(), " ")
		line.Reset()
		keyword, args = strings.ToUpper(keyword), strings.Join(strings.Fields(args), " ")
		if keyword == "FROM" {
			fields := strings.Fields(args)
			fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, "--") })
			if len(fields) != 3 || !strings.EqualFold(fields[1], "AS") {
				t.Fatalf("FROM %s: want FROM <image> AS <name>", args)
			}
			current = fields[2]
			stages[current] = stage{from: fields[0]}
			continue
		}
		if current != "" {
			s := stages[current]
			s.instructions = append(s.instructions, [2]string{keyword, args})
			stages[current] = s
		}
	}
	return stages
}

// parseLabels adds the key="value" pairs of one LABEL instruction to into.
func parseLabels(t *testing.T, args string, into map[string]string) {
	t.Helper()
	pair := regexp.MustCompile(`^([A-Za-z0-9._-]+)=("((?:[^"\\]|\\.)*)"|(\S+))\s*`)
	for rest := args; rest != ""; {
		m := pair.FindStringSubmatch(rest)
		if m == nil {
			t.Fatalf("LABEL %s: cannot parse %q", args, rest)
		}
		value := m[4]
		if strings.HasPrefix(m[2], `"`) {
			value = strings.ReplaceAll(m[3], `\"`, `"`)
		}
		if _, dup := into[m[1]]; dup {
			t.Errorf("label %s is set twice", m[1])
		}
		into[m[1]] = value
		rest = rest[len(m[0]):]
	}
	if len(into) == 0 {
		t.Errorf("LABEL %s sets nothing", args)
	}
}
