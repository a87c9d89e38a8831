package localcluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// BuildTags are the build tags the Makefile's GO_TAGS and hack/release.sh
// give every binary: grpcnotrace keeps gRPC's golang.org/x/net/trace (and
// its templates, which turn off the linker's dead code elimination) out of
// the diagnostics server.
const BuildTags = "grpcnotrace"

// Binaries are the paths of freshly built binaries, by the last element of
// their package path ("webhook", "sidecar", "demo-app", …).
type Binaries map[string]string

// Build compiles the given main packages of the repository (paths relative
// to repoRoot, such as "./cmd/webhook") into outDir with one `go build`, so
// that tests never run stale binaries. The version is stamped as version.
func Build(ctx context.Context, repoRoot, outDir, version string, packages ...string) (Binaries, error) {
	if err := os.MkdirAll(outDir, 0o750); err != nil {
		return nil, fmt.Errorf("create build dir: %w", err)
	}
	args := []string{
		"build", "-trimpath", "-tags", BuildTags,
		"-ldflags", "-X github.com/gopherscope/gopherscope/version.Version=" + version,
		"-o", outDir + string(filepath.Separator),
	}
	cmd := exec.CommandContext(ctx, "go", append(args, packages...)...) //nolint:gosec // fixed go build of the repository's packages
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", strings.Join(packages, " "), err, out.String())
	}
	bins := Binaries{}
	for _, pkg := range packages {
		name := path.Base(pkg)
		bins[name] = filepath.Join(outDir, name)
		if _, err := os.Stat(bins[name]); err != nil {
			return nil, fmt.Errorf("go build %s: no binary: %w", pkg, err)
		}
	}
	return bins, nil
}
