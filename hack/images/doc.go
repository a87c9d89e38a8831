// Command images builds the gopherscope container images as archives, without a Docker
// daemon, on go-containerregistry. Each image is FROM scratch: a layer with /etc/passwd and
// /etc/group from rootfs/ (user nonroot, 65532), a layer with the static binary at /<name>,
// its entrypoint, run as 65532:65532; the OCI labels are its config labels and its manifest's
// and index's annotations. Every timestamp is SOURCE_DATE_EPOCH, so the same binaries give
// the same digests. The Dockerfile describes the same images, and dockerfile_test.go fails
// when the two disagree.
//
// For every image it writes, under --out:
//
//	<name>-<version>.tar                     an OCI image layout (multi-arch index) as a tar
//	<name>-<version>.<os>-<arch>.docker.tar  one platform's image in `docker save` format
//
// Usage (`make images` runs it through hack/release.sh):
//
//	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) go -C hack/images run . --version v0.1.0 \
//	  --bin-dir "$PWD/dist/bin" --out "$PWD/dist/images"
//
// It is a module of its own so that go-containerregistry's dependencies stay out of the
// product's module graph.
package main
