package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	specsv1 "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	// nonrootUser is the user and group every image runs as; rootfs/etc
	// names it "nonroot", like distroless.
	nonrootUser = "65532:65532"
	// defaultPath is the PATH a BuildKit-built image gets; it is set here
	// too so the daemonless images match the Dockerfile's.
	defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// license is the SPDX expression of the project's license.
	license = "Apache-2.0"
)

// imageSpec is one image this command knows how to build.
type imageSpec struct {
	// Name is the binary's name, the entrypoint /<Name>, and the last
	// element of the image's repository.
	Name string
	// Description is the image's org.opencontainers.image.description.
	Description string
}

// knownImage returns the spec of the image called name.
func knownImage(name string) (imageSpec, error) {
	switch name {
	case "webhook":
		return imageSpec{Name: name, Description: "gopherscope admission webhook: injects the Go runtime metrics sidecar into opted-in pods"}, nil
	case "sidecar":
		return imageSpec{Name: name, Description: "gopherscope sidecar: reads a Go app's expvar and pprof endpoints and serves its Go runtime metrics"}, nil
	// Test images for the local node, never published.
	case "demo-app":
		return imageSpec{Name: name, Description: "gopherscope demo app: a Go service with expvar and pprof and knobs for goroutines and allocations (tests and demo only)"}, nil
	case "pause":
		return imageSpec{Name: name, Description: "the local node's sandbox image: holds a pod's namespaces until stopped (tests and demo only)"}, nil
	}
	return imageSpec{}, fmt.Errorf("unknown image %q (known: webhook, sidecar, demo-app, pause)", name)
}

// metadata is what every image of one run is named and labelled with.
type metadata struct {
	Version    string
	Repository string
	SourceURL  string
	Revision   string
	Created    time.Time
}

// ref is the name and tag of spec's image.
func (m metadata) ref(spec imageSpec) (name.Tag, error) {
	ref, err := name.NewTag(m.Repository+"/"+spec.Name+":"+m.Version, name.StrictValidation)
	if err != nil {
		return name.Tag{}, fmt.Errorf("name image %q: %w", spec.Name, err)
	}
	return ref, nil
}

// annotations are the OCI annotations of spec's image, used both as config
// labels and as manifest and index annotations.
func (m metadata) annotations(spec imageSpec) map[string]string {
	a := map[string]string{
		specsv1.AnnotationTitle:       "gopherscope-" + spec.Name,
		specsv1.AnnotationDescription: spec.Description,
		specsv1.AnnotationVersion:     m.Version,
		specsv1.AnnotationLicenses:    license,
		specsv1.AnnotationCreated:     m.Created.Format(time.RFC3339),
	}
	if m.SourceURL != "" {
		a[specsv1.AnnotationSource] = m.SourceURL
	}
	if m.Revision != "" {
		a[specsv1.AnnotationRevision] = m.Revision
	}
	return a
}

// platformImage is one platform's image.
type platformImage struct {
	Platform v1.Platform
	Image    v1.Image
}

// builtImage is one image for every platform, and their index.
type builtImage struct {
	Spec      imageSpec
	Ref       name.Tag
	Index     v1.ImageIndex
	Platforms []platformImage
}

// buildAll builds spec's image for every platform from the binaries in
// binDir/<os>_<arch>/<name>, and the index over them.
func buildAll(spec imageSpec, platforms []v1.Platform, binDir string, meta metadata) (*builtImage, error) {
	ref, err := meta.ref(spec)
	if err != nil {
		return nil, err
	}
	rootfs, err := rootfsLayer(meta.Created)
	if err != nil {
		return nil, err
	}
	out := &builtImage{Spec: spec, Ref: ref}
	adds := make([]mutate.IndexAddendum, 0, len(platforms))
	for _, p := range platforms {
		path := filepath.Join(binDir, p.OS+"_"+p.Architecture, spec.Name)
		binary, err := readStaticBinary(path, p)
		if err != nil {
			return nil, err
		}
		img, err := buildImage(spec, p, rootfs, binary, meta)
		if err != nil {
			return nil, fmt.Errorf("build %s image for %s: %w", spec.Name, p.String(), err)
		}
		out.Platforms = append(out.Platforms, platformImage{Platform: p, Image: img})
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	annotated, ok := mutate.Annotations(idx, meta.annotations(spec)).(v1.ImageIndex)
	if !ok {
		return nil, fmt.Errorf("annotate %s index: not an index", spec.Name)
	}
	out.Index = annotated
	return out, nil
}

// buildImage assembles one platform's image: the shared rootfs layer, then
// the binary at /<name>, run as nonroot from /.
func buildImage(spec imageSpec, p v1.Platform, rootfs v1.Layer, binary []byte, meta metadata) (v1.Image, error) {
	binLayer, err := tarLayer([]tarEntry{{Name: spec.Name, Mode: 0o755, Data: binary}}, meta.Created)
	if err != nil {
		return nil, fmt.Errorf("make binary layer: %w", err)
	}
	labels := meta.annotations(spec)
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: p.Architecture,
		OS:           p.OS,
		Variant:      p.Variant,
		Created:      v1.Time{Time: meta.Created},
		Config: v1.Config{
			Entrypoint: []string{"/" + spec.Name},
			User:       nonrootUser,
			WorkingDir: "/",
			Env:        []string{defaultPath},
			Labels:     labels,
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	created := v1.Time{Time: meta.Created}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: rootfs, History: v1.History{
			Created: created, CreatedBy: "COPY rootfs/etc/passwd rootfs/etc/group /etc/ # nonroot user 65532", Comment: "hack/images",
		}},
		mutate.Addendum{Layer: binLayer, History: v1.History{
			Created: created, CreatedBy: fmt.Sprintf("COPY %s /%s", spec.Name, spec.Name), Comment: "hack/images",
		}},
	)
	if err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	annotated, ok := mutate.Annotations(img, labels).(v1.Image)
	if !ok {
		return nil, fmt.Errorf("annotate manifest: not an image")
	}
	return annotated, nil
}
