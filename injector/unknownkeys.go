package injector

import (
	"fmt"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"

	"github.com/gopherscope/gopherscope/config"
)

// UnknownKeyWarnings returns a warning for every label and annotation key
// under gopherscope.io/ that gopherscope does not read (a typo like
// gopherscope.io/ports, or an annotation key used as a label), naming the
// nearest key it does read. Labels come first, then annotations, each in
// key order, so the result is deterministic.
//
// At most maxUnknownKeyWarnings keys are named, and one more warning counts
// the rest: the webhook sees pods before the API server validates them, and
// a pod with many long keys must not cost many edit distances.
func UnknownKeyWarnings(labels, annotations map[string]string) []string {
	var warnings []string
	more := 0
	add := func(kind string, m map[string]string, known, otherKind []string) {
		for _, key := range sortedKeys(m) {
			if !strings.HasPrefix(key, config.KeyPrefix) || slices.Contains(known, key) {
				continue
			}
			if len(warnings) == maxUnknownKeyWarnings {
				more++
				continue
			}
			warnings = append(warnings, unknownKeyWarning(kind, key, known, otherKind))
		}
	}
	add("label", labels, config.PodLabelKeys(), config.PodAnnotationKeys())
	add("annotation", annotations, config.PodAnnotationKeys(), config.PodLabelKeys())
	if more > 0 {
		warnings = append(warnings, fmt.Sprintf("%d more labels or annotations under %s are not gopherscope keys and are ignored", more, config.KeyPrefix))
	}
	return warnings
}

// Bounds of UnknownKeyWarnings' work.
const (
	// maxUnknownKeyWarnings is how many unknown keys are named.
	maxUnknownKeyWarnings = 10
	// maxSuggestedKeyLen is the longest key that gets a suggestion: a
	// valid key is at most 253 characters of prefix, a slash and 63 of name.
	maxSuggestedKeyLen = 317
)

// unknownKeyWarning is the warning for one unknown key of the given kind
// ("label" or "annotation"). A key of the other kind says so; any other
// names the nearest known key, of its own kind where two are as near.
func unknownKeyWarning(kind, key string, known, otherKind []string) string {
	other := "annotation"
	if kind == other {
		other = "label"
	}
	if slices.Contains(otherKind, key) {
		return fmt.Sprintf("%s %s is ignored: gopherscope reads %s as %s %s, not as %s %s",
			kind, key, key, article(other), other, article(kind), kind)
	}
	if len(key) > maxSuggestedKeyLen {
		return fmt.Sprintf("%s %s… is not a gopherscope key and is ignored", kind, key[:maxSuggestedKeyLen])
	}
	nearest := nearestKey(key, slices.Concat(known, otherKind))
	if slices.Contains(known, nearest) {
		return fmt.Sprintf("%s %s is not a gopherscope key and is ignored; did you mean %s?", kind, key, nearest)
	}
	return fmt.Sprintf("%s %s is not a gopherscope key and is ignored; did you mean the %s %s?", kind, key, other, nearest)
}

// nearestKey is the key of known at the smallest edit distance from key
// (the first such in known's order).
func nearestKey(key string, known []string) string {
	best, bestDistance := "", -1
	for _, k := range known {
		if d := levenshtein.ComputeDistance(key, k); bestDistance < 0 || d < bestDistance {
			best, bestDistance = k, d
		}
	}
	return best
}

func article(kind string) string {
	if kind == "annotation" {
		return "an"
	}
	return "a"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
