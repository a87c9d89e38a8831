package injector

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Values of config.LabelSidecarVersion for images that say no version.
const (
	// versionLatest is an image reference without tag or digest: the
	// registry's latest.
	versionLatest = "latest"
	// versionUnknown is what is left when nothing of the reference makes a
	// label value.
	versionUnknown = "unknown"
	// digestVersionLen is how many characters of a digest-only reference's
	// encoded digest its version keeps, as `docker images` shows them.
	digestVersionLen = 12
)

// SidecarVersion is the version of the sidecar an image reference runs, as
// the value of the label config.LabelSidecarVersion: the reference's tag
// ("ghcr.io/gopherscope/sidecar:v0.4.0" is "v0.4.0"), else for a
// digest-only reference the digest's algorithm and first 12 characters
// ("sha256-0123456789ab"), else "latest". The result is always a valid
// label value: characters a label value refuses become "-", it is cut to 63
// characters and trimmed to start and end with a letter or digit, and what
// leaves nothing is "unknown".
func SidecarVersion(image string) string {
	name, digest, hasDigest := strings.Cut(image, "@")
	version := versionLatest
	if colon := strings.LastIndexByte(name, ':'); colon > strings.LastIndexByte(name, '/') {
		version = name[colon+1:]
	} else if hasDigest {
		algorithm, encoded, _ := strings.Cut(digest, ":")
		version = algorithm + "-" + encoded[:min(len(encoded), digestVersionLen)]
	}
	return labelValue(version)
}

// labelValue makes s a valid label value (see SidecarVersion).
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !isAlnum(rune(c)) && c != '-' && c != '_' && c != '.' {
			b[i] = '-'
		}
	}
	out := string(b[:min(len(b), validation.LabelValueMaxLength)])
	out = strings.TrimFunc(out, func(r rune) bool { return !isAlnum(r) })
	if out == "" {
		return versionUnknown
	}
	return out
}
