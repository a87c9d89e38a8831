// Command images builds the gopherscope container images without a Docker
// daemon, from cross-compiled static binaries, with go-containerregistry.
//
// Each image is built FROM scratch: one layer holds /etc/passwd and
// /etc/group (the nonroot user 65532, from rootfs/, which the Dockerfile
// copies too), the other the binary at /<name>. The config runs the binary as
// its entrypoint as user 65532:65532 and carries the OCI labels; the manifest
// and the multi-architecture index carry the same OCI annotations. All
// timestamps are SOURCE_DATE_EPOCH, so the same binaries give the same digests.
//
// For every image it writes, under --out:
//
//	<name>-<version>.tar                   an OCI image layout (multi-arch index) as a tar
//	<name>-<version>.<os>-<arch>.docker.tar  one platform's image in `docker save` format
//
// Usage (the Makefile's `images` target runs it through hack/release.sh):
//
//	go -C hack/images run . --version v0.1.0 --bin-dir "$PWD/dist/bin" --out "$PWD/dist/images"
//
// It lives in its own module so that go-containerregistry's dependencies
// (docker/cli, moby) stay out of the product's module graph.
package main
