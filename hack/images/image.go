package main

import (
	"archive/tar"
	"bytes"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	specsv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	// repository is where the images are named (<repository>/<name>:<version>).
	repository = "ghcr.io/gopherscope"
	// nonroot is the user and group every image runs as; rootfs/etc names it "nonroot".
	nonroot = "65532:65532"
	// buildkitPath is the PATH BuildKit gives an image, so these match the Dockerfile's.
	buildkitPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// descriptions are the images this command builds, by name. demo-app and pause are test
// images for the local node, never published.
var descriptions = map[string]string{
	"webhook":     "gopherscope admission webhook: injects the Go runtime metrics sidecar into opted-in pods",
	"sidecar":     "gopherscope sidecar: reads a Go app's expvar and pprof endpoints and serves its Go runtime metrics",
	"diagnostics": "gopherscope diagnostics API server: stats, profiles, dumps and traces of injected pods through the Kubernetes API",
	"demo-app":    "gopherscope demo app: a Go service with expvar and pprof and knobs for goroutines and allocations (tests and demo only)",
	"pause":       "the local node's sandbox image: holds a pod's namespaces until stopped (tests and demo only)",
}

// rootfs holds the files every image starts from; the Dockerfile copies them too.
//
//go:embed rootfs
var rootfs embed.FS

// ociLabels are image imageName's OCI annotations: its config labels and its manifest's and
// index's annotations.
func ociLabels(imageName string, o options) (map[string]string, error) {
	description, ok := descriptions[imageName]
	if !ok {
		return nil, fmt.Errorf("unknown image (known: %s)", strings.Join(slices.Sorted(maps.Keys(descriptions)), ", "))
	}
	l := map[string]string{
		specsv1.AnnotationTitle:       "gopherscope-" + imageName,
		specsv1.AnnotationDescription: description,
		specsv1.AnnotationSource:      "https://github.com/gopherscope/gopherscope",
		specsv1.AnnotationLicenses:    "Apache-2.0",
		specsv1.AnnotationVersion:     o.version,
		specsv1.AnnotationCreated:     o.created.Format(time.RFC3339),
	}
	if o.revision != "" {
		l[specsv1.AnnotationRevision] = o.revision
	}
	return l, nil
}

// buildIndex builds image imageName for every platform of o from
// o.binDir/<os>_<arch>/<imageName>, and the annotated multi-arch index of them.
func buildIndex(imageName string, o options) (name.Tag, v1.ImageIndex, error) {
	ref, err := name.NewTag(repository+"/"+imageName+":"+o.version, name.StrictValidation)
	if err != nil {
		return ref, nil, err
	}
	labels, err := ociLabels(imageName, o)
	if err != nil {
		return ref, nil, err
	}
	etc, err := fs.Sub(rootfs, "rootfs")
	if err != nil {
		return ref, nil, err
	}
	etcFiles, err := readTree(etc)
	if err != nil {
		return ref, nil, err
	}
	etcLayer, err := layer(o.created, etcFiles...)
	if err != nil {
		return ref, nil, err
	}
	var adds []mutate.IndexAddendum
	for _, s := range o.platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return ref, nil, err
		}
		binary, err := os.ReadFile(filepath.Join(o.binDir, p.OS+"_"+p.Architecture, imageName)) //nolint:gosec // the binary the flags name.
		if err != nil {
			return ref, nil, err
		}
		img, err := buildImage(imageName, *p, etcLayer, binary, labels, o.created)
		if err != nil {
			return ref, nil, fmt.Errorf("%s: %w", s, err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return ref, mutate.Annotations(idx, labels).(v1.ImageIndex), nil
}

// buildImage is one platform's image: the /etc layer, then the binary at /<imageName>, run
// as nonroot from /.
func buildImage(imageName string, p v1.Platform, etc v1.Layer, binary []byte, labels map[string]string, created time.Time) (v1.Image, error) {
	bin, err := layer(created, file{name: imageName, mode: 0o755, data: binary})
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		OS: p.OS, Architecture: p.Architecture, Variant: p.Variant,
		Created: v1.Time{Time: created},
		Config: v1.Config{
			Entrypoint: []string{"/" + imageName}, User: nonroot, WorkingDir: "/",
			Env: []string{buildkitPath}, Labels: labels,
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	at := v1.Time{Time: created}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: etc, History: v1.History{Created: at, CreatedBy: "COPY rootfs/etc/passwd rootfs/etc/group /etc/"}},
		mutate.Addendum{Layer: bin, History: v1.History{Created: at, CreatedBy: "COPY " + imageName + " /" + imageName}},
	)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, labels).(v1.Image), nil
}

// file is one entry of a tar: a directory when its name ends in a slash.
type file struct {
	name string
	mode int64
	data []byte
}

// readTree lists every directory (mode 0755) and file (mode 0644) of fsys in lexical order.
func readTree(fsys fs.FS) ([]file, error) {
	var files []file
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == "." {
			return err
		}
		if d.IsDir() {
			files = append(files, file{name: path + "/", mode: 0o755})
			return nil
		}
		data, err := fs.ReadFile(fsys, path)
		files = append(files, file{name: path, mode: 0o644, data: data})
		return err
	})
	return files, err
}

// writeTar writes files to w in order, owned by root, every timestamp modTime, so the same
// files always give the same bytes.
func writeTar(w io.Writer, modTime time.Time, files []file) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: f.mode, ModTime: modTime, Typeflag: tar.TypeReg, Size: int64(len(f.data))}
		if strings.HasSuffix(f.name, "/") {
			hdr.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// layer is a gzipped OCI layer of files.
func layer(modTime time.Time, files ...file) (v1.Layer, error) {
	var buf bytes.Buffer
	if err := writeTar(&buf, modTime, files); err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil },
		tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}
