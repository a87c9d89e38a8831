package injector

import (
	"strings"
)

// Bounds of an image reference, from the distribution spec's grammar.
const (
	maxImageLen     = 512
	maxImageNameLen = 255
	maxTagLen       = 128
	minDigestHexLen = 32
)

// imageProblem checks an image reference ([host[:port]/]path[:tag][@digest])
// against the distribution reference grammar, closely enough that a value
// with spaces, control characters, upper-case paths or a leading "-" never
// reaches the pod spec. It returns "" for a valid reference, else what is wrong.
func imageProblem(ref string) string {
	switch {
	case ref == "":
		return "must not be empty"
	case len(ref) > maxImageLen:
		return "is longer than 512 bytes"
	}
	name := ref
	if at := strings.IndexByte(ref, '@'); at >= 0 {
		name = ref[:at]
		if !validDigest(ref[at+1:]) {
			return "has an invalid digest (want algorithm:hex)"
		}
	}
	if colon := strings.LastIndexByte(name, ':'); colon > strings.LastIndexByte(name, '/') {
		if !validTag(name[colon+1:]) {
			return "has an invalid tag"
		}
		name = name[:colon]
	}
	if len(name) > maxImageNameLen {
		return "has a name longer than 255 bytes"
	}
	parts := strings.Split(name, "/")
	if len(parts) > 1 && isRegistryHost(parts[0]) {
		if !validHost(parts[0]) {
			return "has an invalid registry host"
		}
		parts = parts[1:]
	}
	for _, p := range parts {
		if !validPathComponent(p) {
			return "has an invalid repository path (lower-case letters, digits and . _ - only)"
		}
	}
	return ""
}

// isRegistryHost says whether the first component of a name is a registry
// host rather than a path component, as Docker decides it.
func isRegistryHost(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost" || s != strings.ToLower(s)
}

func validHost(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort && (port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "") {
		return false
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !isAlnum(r) && r != '-' {
				return false
			}
		}
	}
	return true
}

func validPathComponent(s string) bool {
	if s == "" || !isLowerAlnum(rune(s[0])) || !isLowerAlnum(rune(s[len(s)-1])) {
		return false
	}
	for _, r := range s {
		if !isLowerAlnum(r) && r != '.' && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

func validTag(s string) bool {
	if s == "" || len(s) > maxTagLen || s[0] == '.' || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !isAlnum(r) && r != '_' && r != '.' && r != '-' {
			return false
		}
	}
	return true
}

func validDigest(s string) bool {
	algorithm, encoded, ok := strings.Cut(s, ":")
	if !ok || algorithm == "" || len(encoded) < minDigestHexLen {
		return false
	}
	for _, r := range algorithm {
		if !isLowerAlnum(r) && r != '+' && r != '.' && r != '_' && r != '-' {
			return false
		}
	}
	for _, r := range encoded {
		if !isAlnum(r) && r != '=' && r != '_' && r != '-' {
			return false
		}
	}
	return true
}

func isLowerAlnum(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') }

func isAlnum(r rune) bool { return isLowerAlnum(r) || (r >= 'A' && r <= 'Z') }
