package localcluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// NodeImages are the images a node cluster runs: ours, the demo app and the
// sandbox image, built from this checkout by `make images`' own script.
type NodeImages struct {
	// Version is their tag.
	Version string
	// Archives are the docker-save archives to import into containerd.
	Archives []string
}

// imageRepository is where hack/images names our images (the chart's default).
const imageRepository = "ghcr.io/gopherscope"

// Ref is the reference of image name ("webhook", "diagnostics", "sidecar", "demo-app", "pause").
func (im NodeImages) Ref(name string) string { return imageRepository + "/" + name + ":" + im.Version }

// BuildNodeImages builds the webhook, diagnostics, sidecar, demo-app and pause images for
// this machine's architecture into outDir with hack/release.sh, the script
// behind `make images`, stamped with version.
func BuildNodeImages(ctx context.Context, repoRoot, outDir, version string) (NodeImages, error) {
	images := []string{"webhook", "diagnostics", "sidecar", "demo-app", "pause"}
	platform := "linux/" + runtime.GOARCH
	cmd := exec.CommandContext(ctx, filepath.Join(repoRoot, "hack", "release.sh"), "images") //nolint:gosec // the repository's own release script
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "VERSION="+version, "DIST="+outDir, "PLATFORMS="+platform,
		"IMAGES="+strings.Join(images, " "))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return NodeImages{}, fmt.Errorf("build images: %w\n%s", err, out.String())
	}
	im := NodeImages{Version: version}
	for _, name := range images {
		archive := filepath.Join(outDir, "images", fmt.Sprintf("%s-%s.linux-%s.docker.tar", name, version, runtime.GOARCH))
		if _, err := os.Stat(archive); err != nil {
			return NodeImages{}, fmt.Errorf("build images: no archive for %s: %w\n%s", name, err, out.String())
		}
		im.Archives = append(im.Archives, archive)
	}
	return im, nil
}
