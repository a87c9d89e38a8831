package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	specsv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// writeArchives writes idx as an OCI layout tar and each of its platforms' images as a
// `docker save` tar, printing their digests to out.
func writeArchives(o options, imageName string, ref name.Tag, idx v1.ImageIndex, out io.Writer) error {
	if err := writeOCIArchive(filepath.Join(o.outDir, imageName+"-"+o.version+".tar"), o, ref, idx); err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s %s index %s\n", imageName, ref.Name(), digest) //nolint:errcheck // a summary for the terminal.
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, desc := range m.Manifests {
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return err
		}
		p := desc.Platform
		path := filepath.Join(o.outDir, imageName+"-"+o.version+"."+p.OS+"-"+p.Architecture+".docker.tar")
		if err := writeFile(path, func(w io.Writer) error { return tarball.Write(ref, img, w) }); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %-13s %s\n", p.String(), desc.Digest) //nolint:errcheck // a summary for the terminal.
	}
	return nil
}

// writeOCIArchive writes idx as an OCI image layout, tarred, its index.json entry named
// by ref's tag and, for containerd and `docker load`, by ref.
func writeOCIArchive(path string, o options, ref name.Tag, idx v1.ImageIndex) (err error) {
	dir, err := os.MkdirTemp(o.outDir, ".oci-layout-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	err = lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		specsv1.AnnotationRefName:  ref.TagStr(),
		"io.containerd.image.name": ref.Name(),
	}))
	if err != nil {
		return err
	}
	files, err := readTree(os.DirFS(dir))
	if err != nil {
		return err
	}
	return writeFile(path, func(w io.Writer) error { return writeTar(w, o.created, files) })
}

// writeFile creates path and fills it, removing it if that fails.
func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path) //nolint:gosec // the path is built from our own flags.
	if err != nil {
		return err
	}
	if err := errors.Join(fill(f), f.Close()); err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", path, err), os.Remove(path))
	}
	return nil
}
