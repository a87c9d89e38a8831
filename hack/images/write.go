package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	specsv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// containerdImageName is the index.json annotation containerd and
// `docker load` (Docker 25+) name an imported OCI archive's image by.
const containerdImageName = "io.containerd.image.name"

// ociArchivePath is where the OCI archive of an image is written.
func ociArchivePath(outDir, imageName, version string) string {
	return filepath.Join(outDir, imageName+"-"+version+".tar")
}

// dockerArchivePath is where one platform's `docker save` archive is written.
func dockerArchivePath(outDir, imageName, version string, p v1.Platform) string {
	return filepath.Join(outDir, imageName+"-"+version+"."+p.OS+"-"+p.Architecture+".docker.tar")
}

// writeArchives writes b as an OCI archive of its index and as one
// `docker save` archive per platform.
func writeArchives(outDir string, b *builtImage, meta metadata) error {
	if err := writeOCIArchive(ociArchivePath(outDir, b.Spec.Name, meta.Version), b, meta.Created); err != nil {
		return err
	}
	for _, pi := range b.Platforms {
		path := dockerArchivePath(outDir, b.Spec.Name, meta.Version, pi.Platform)
		err := writeAtomic(path, func(w io.Writer) error { return tarball.Write(b.Ref, pi.Image, w) })
		if err != nil {
			return err
		}
	}
	return nil
}

// writeOCIArchive writes b's index as an OCI image layout, tarred, its
// entry in index.json annotated with the image's tag and full name.
func writeOCIArchive(path string, b *builtImage, modTime time.Time) (err error) {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".oci-layout-")
	if err != nil {
		return fmt.Errorf("create layout directory: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("write OCI layout %q: %w", dir, err)
	}
	err = lp.AppendIndex(b.Index, layout.WithAnnotations(map[string]string{
		specsv1.AnnotationRefName: b.Ref.TagStr(),
		containerdImageName:       b.Ref.Name(),
	}))
	if err != nil {
		return fmt.Errorf("write %s index to OCI layout: %w", b.Spec.Name, err)
	}
	return writeAtomic(path, func(w io.Writer) error { return tarDir(w, dir, modTime) })
}

// tarDir writes the tree under dir to w in lexical order, owned by root,
// every timestamp modTime, so the same tree always gives the same bytes.
func tarDir(w io.Writer, dir string, modTime time.Time) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: modTime, Mode: 0o644, Typeflag: tar.TypeReg}
		if d.IsDir() {
			hdr.Name += "/"
			hdr.Mode = 0o755
			hdr.Typeflag = tar.TypeDir
			return tw.WriteHeader(hdr)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr.Size = info.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		return copyFile(tw, path)
	})
	if err != nil {
		return fmt.Errorf("tar %q: %w", dir, err)
	}
	return tw.Close()
}

// copyFile copies the file at path to w.
func copyFile(w io.Writer, path string) (err error) {
	f, err := os.Open(path) //nolint:gosec // path comes from walking our own temporary layout.
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	_, err = io.Copy(w, f)
	return err
}

// writeAtomic writes path through fill: to a temporary file renamed into
// place on success, so a failed or interrupted build leaves no partial
// archive behind.
func writeAtomic(path string, fill func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %q: %w", path, err)
	}
	err = fill(f)
	err = errors.Join(err, f.Close())
	if err == nil {
		err = os.Chmod(f.Name(), 0o644) //nolint:gosec // release artefacts are meant to be world-readable.
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}
