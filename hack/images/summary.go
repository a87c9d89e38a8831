package main

import (
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// printSummary writes b's name and index digest, then each platform's
// manifest digest, layer count and sizes.
func printSummary(out io.Writer, b *builtImage) error {
	digest, err := b.Index.Digest()
	if err != nil {
		return fmt.Errorf("digest %s index: %w", b.Spec.Name, err)
	}
	if _, err := fmt.Fprintf(out, "%s %s index %s\n", b.Spec.Name, b.Ref.Name(), digest); err != nil {
		return err
	}
	for _, pi := range b.Platforms {
		s, err := measure(pi.Image)
		if err != nil {
			return fmt.Errorf("measure %s image for %s: %w", b.Spec.Name, pi.Platform.String(), err)
		}
		_, err = fmt.Fprintf(out, "  %-13s %s  %d layers  %.2f MB compressed  %.2f MB uncompressed\n",
			pi.Platform.String(), s.Digest, s.Layers, float64(s.Compressed)/1e6, float64(s.Uncompressed)/1e6)
		if err != nil {
			return err
		}
	}
	return nil
}

// imageSize is an image's manifest digest, layer count and sizes in bytes:
// compressed is what a registry stores and a node pulls (manifest, config
// and layers), uncompressed is the layers' tar streams.
type imageSize struct {
	Digest       v1.Hash
	Layers       int
	Compressed   int64
	Uncompressed int64
}

// measure computes img's imageSize.
func measure(img v1.Image) (imageSize, error) {
	var s imageSize
	var err error
	if s.Digest, err = img.Digest(); err != nil {
		return s, err
	}
	m, err := img.Manifest()
	if err != nil {
		return s, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return s, err
	}
	s.Layers = len(m.Layers)
	s.Compressed = int64(len(raw)) + m.Config.Size
	layers, err := img.Layers()
	if err != nil {
		return s, err
	}
	for _, l := range layers {
		size, err := l.Size()
		if err != nil {
			return s, err
		}
		s.Compressed += size
		n, err := countUncompressed(l)
		if err != nil {
			return s, err
		}
		s.Uncompressed += n
	}
	return s, nil
}

// countUncompressed is the size of l's uncompressed tar stream.
func countUncompressed(l v1.Layer) (int64, error) {
	rc, err := l.Uncompressed()
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return n, err
}
