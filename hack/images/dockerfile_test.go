package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// TestDockerfileMatchesImages checks that the images `make images` writes are what the
// Dockerfile (which no Docker daemon here can build) says: for each of its image stages,
// every platform's image has its user, working directory, entrypoint and labels, and
// exactly the files its COPY instructions put there, with their modes and contents.
func TestDockerfileMatchesImages(t *testing.T) {
	dist, _ := release(t)
	root := repoRoot(t)
	stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	base := stages["base"]
	if base.from != "scratch" {
		t.Errorf("the base stage is FROM %q, want scratch", base.from)
	}
	vars := strings.NewReplacer("${VERSION}", testVersion, "${REVISION}", testRevision,
		"${CREATED}", testCreated.Format("2006-01-02T15:04:05Z"))
	ctx, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ctx.Close() }()
	for _, image := range testImages {
		stage := stages[image]
		if stage.from != "base" {
			t.Errorf("stage %s is FROM %q, want base", image, stage.from)
		}
		want := v1.Config{User: base.last("USER"), WorkingDir: base.last("WORKDIR"), Labels: map[string]string{}}
		if err := json.Unmarshal([]byte(stage.last("ENTRYPOINT")), &want.Entrypoint); err != nil {
			t.Errorf("stage %s: ENTRYPOINT %s is not in exec form: %v", image, stage.last("ENTRYPOINT"), err)
		}
		// A stage inherits its base's labels and may override them.
		for _, label := range append(base.all("LABEL"), stage.all("LABEL")...) {
			for _, kv := range labelPair.FindAllStringSubmatch(label, -1) {
				want.Labels[kv[1]] = vars.Replace(kv[2])
			}
		}
		idx, _ := openOCIArchive(t, filepath.Join(dist, "images", image+"-"+testVersion+".tar"))
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range im.Manifests {
			t.Run(image+" "+m.Platform.String(), func(t *testing.T) {
				build, err := os.OpenRoot(filepath.Join(dist, "bin", m.Platform.OS+"_"+m.Platform.Architecture))
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = build.Close() }()
				wantFiles := map[string]imageFile{}
				for _, c := range append(base.all("COPY"), stage.all("COPY")...) {
					copyFiles(t, c, map[string]*os.Root{"": ctx, "build": build}, wantFiles)
				}
				img, err := idx.Image(m.Digest)
				if err != nil {
					t.Fatal(err)
				}
				cf, err := img.ConfigFile()
				if err != nil {
					t.Fatal(err)
				}
				got := v1.Config{User: cf.Config.User, WorkingDir: cf.Config.WorkingDir, Entrypoint: cf.Config.Entrypoint, Labels: cf.Config.Labels}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("config (-Dockerfile +image):\n%s", diff)
				}
				if diff := cmp.Diff(wantFiles, imageFiles(t, img), cmp.AllowUnexported(imageFile{})); diff != "" {
					t.Errorf("files (-Dockerfile +image):\n%s", diff)
				}
			})
		}
	}

	t.Run("the build stage uses release.sh's build flags", func(t *testing.T) {
		build := stages["build"].last("RUN")
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-buildvcs=false"} {
			if !strings.Contains(build, want) {
				t.Errorf("the build RUN lacks %q: %s", want, build)
			}
		}
		script, err := os.ReadFile(filepath.Join(root, "hack", "release.sh"))
		if err != nil {
			t.Fatal(err)
		}
		ldflags := regexp.MustCompile(`-ldflags "([^"]*)"`)
		inDockerfile, inRelease := ldflags.FindStringSubmatch(build), ldflags.FindSubmatch(script)
		if inDockerfile == nil || inRelease == nil {
			t.Fatalf("-ldflags found in the Dockerfile: %v, in release.sh: %v", inDockerfile != nil, inRelease != nil)
		}
		if want := strings.ReplaceAll(string(inRelease[1]), "$VERSION", "${VERSION}"); inDockerfile[1] != want {
			t.Errorf("Dockerfile -ldflags %q, release.sh %q", inDockerfile[1], want)
		}
	})
}

// labelPair is one key="value" of a LABEL instruction.
var labelPair = regexp.MustCompile(`([\w.-]+)="([^"]*)"`)

// imageFile is a file or directory of an image as a container runtime unpacks it.
type imageFile struct {
	mode, uid, gid int64
	modTime        string
	data           string
}

// copyFiles adds the files a `COPY [--chmod=M] [--from=stage] src... dst` instruction puts in
// the image to files: sources are read from roots by stage ("" is the build context), a
// directory destination receives each source by its base name, and missing parent
// directories are created 0755 (named without a slash, as mutate.Extract lists them). Every
// timestamp is SOURCE_DATE_EPOCH (the Dockerfile's build uses rewrite-timestamp).
func copyFiles(t *testing.T, instruction string, roots map[string]*os.Root, files map[string]imageFile) {
	t.Helper()
	args := strings.Fields(instruction)
	chmod, from := int64(-1), ""
	for ; len(args) > 0 && strings.HasPrefix(args[0], "--"); args = args[1:] {
		key, value, _ := strings.Cut(args[0], "=")
		switch key {
		case "--chmod":
			m, err := strconv.ParseInt(value, 8, 64)
			if err != nil {
				t.Fatalf("COPY %s: %v", instruction, err)
			}
			chmod = m
		case "--from":
			from = value
		}
	}
	created := testCreated.Format("2006-01-02T15:04:05Z")
	dst := args[len(args)-1]
	for _, src := range args[:len(args)-1] {
		if from == "build" {
			src = path.Base(src) // the build stage's /out/<name> is release.sh's bin/<os>_<arch>/<name>
		}
		data, err := roots[from].ReadFile(src)
		if err != nil {
			t.Fatalf("COPY %s: %v", instruction, err)
		}
		info, err := roots[from].Stat(src)
		if err != nil {
			t.Fatal(err)
		}
		mode := int64(info.Mode().Perm())
		if chmod >= 0 {
			mode = chmod
		}
		target := strings.TrimPrefix(dst, "/")
		if strings.HasSuffix(dst, "/") {
			target += path.Base(src)
		}
		files[target] = imageFile{mode: mode, modTime: created, data: string(data)}
		for dir := path.Dir(target); dir != "."; dir = path.Dir(dir) {
			files[dir] = imageFile{mode: 0o755, modTime: created}
		}
	}
}

// imageFiles lists the files of img's flattened filesystem by path.
func imageFiles(t *testing.T, img v1.Image) map[string]imageFile {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	files := map[string]imageFile{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = imageFile{mode: hdr.Mode, uid: int64(hdr.Uid), gid: int64(hdr.Gid),
			modTime: hdr.ModTime.UTC().Format("2006-01-02T15:04:05Z"), data: string(data)}
	}
}

// stage is one `FROM <image> AS <name>` stage of a Dockerfile: its base and instructions.
type stage struct {
	from         string
	instructions [][2]string // keyword, arguments
}

// all returns the arguments of every instruction of the keyword.
func (s stage) all(keyword string) []string {
	var out []string
	for _, in := range s.instructions {
		if in[0] == keyword {
			out = append(out, in[1])
		}
	}
	return out
}

// last returns the arguments of the last instruction of the keyword, the one that counts.
func (s stage) last(keyword string) string {
	all := s.all(keyword)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// parseDockerfile reads the stages of the Dockerfile at path by name, joining continued
// lines and skipping comments.
func parseDockerfile(t *testing.T, path string) map[string]stage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`\\[ \t]*\n`).ReplaceAllString(string(data), " ")
	stages := map[string]stage{}
	current := ""
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keyword, args, _ := strings.Cut(line, " ")
		keyword, args = strings.ToUpper(keyword), strings.Join(strings.Fields(args), " ")
		if keyword == "FROM" {
			fields := strings.Fields(args)
			if len(fields) < 3 || !strings.EqualFold(fields[len(fields)-2], "AS") {
				t.Fatalf("FROM %s: want FROM [--platform=…] <image> AS <name>", args)
			}
			current = fields[len(fields)-1]
			stages[current] = stage{from: fields[len(fields)-3]}
		} else if current != "" {
			s := stages[current]
			s.instructions = append(s.instructions, [2]string{keyword, args})
			stages[current] = s
		}
	}
	return stages
}
