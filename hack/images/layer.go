package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// rootfs holds the files every image starts from (the Dockerfile copies
// the same directory).
//
//go:embed rootfs
var rootfs embed.FS

// tarEntry is one file or directory of a layer.
type tarEntry struct {
	// Name is the path inside the image, without a leading slash; a
	// directory's ends with a slash.
	Name string
	// Mode is the permission bits.
	Mode int64
	// Data is a file's content; nil for a directory.
	Data []byte
}

// tarLayer makes a gzip-compressed OCI layer of entries, in the given order,
// owned by root, every timestamp modTime: the same entries always give the
// same digest.
func tarLayer(entries []tarEntry, modTime time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{
			Name:    e.Name,
			Mode:    e.Mode,
			ModTime: modTime,
		}
		if e.Data == nil {
			hdr.Typeflag = tar.TypeDir
		} else {
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(e.Data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("write tar header %q: %w", e.Name, err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			return nil, fmt.Errorf("write tar entry %q: %w", e.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close tar: %w", err)
	}
	content := buf.Bytes()
	layer, err := tarball.LayerFromOpener(
		func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil },
		tarball.WithMediaType(types.OCILayer),
		tarball.WithCompressionLevel(gzip.BestCompression),
		tarball.WithCompressedCaching,
	)
	if err != nil {
		return nil, fmt.Errorf("make layer: %w", err)
	}
	return layer, nil
}

// rootfsLayer is the layer of rootfs/: /etc, /etc/group and /etc/passwd.
func rootfsLayer(modTime time.Time) (v1.Layer, error) {
	var entries []tarEntry
	err := fs.WalkDir(rootfs, "rootfs", func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == "rootfs" {
			return err
		}
		name := path[len("rootfs/"):]
		if d.IsDir() {
			entries = append(entries, tarEntry{Name: name + "/", Mode: 0o755})
			return nil
		}
		data, err := rootfs.ReadFile(path)
		if err != nil {
			return err
		}
		if data == nil {
			data = []byte{}
		}
		entries = append(entries, tarEntry{Name: name, Mode: 0o644, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read embedded rootfs: %w", err)
	}
	return tarLayer(entries, modTime)
}
