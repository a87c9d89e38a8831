// Package release holds the tests of the release pipeline, hack/release.sh:
// that the three binaries print the one version they were stamped with, that
// injection records it and points at the sidecar image of that version, and
// that a dry-run release produces exactly its binaries, images, chart and
// verified checksums. It has no code of its own.
package release
