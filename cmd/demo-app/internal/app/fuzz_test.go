package app

import (
	"strings"
	"testing"
)

// FuzzParseByteSize: any input parses or is refused with an error naming
// it; what parses is never negative and survives a round trip through String.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"4096", "64KiB", "1.5MB", "1MiB/s", " 3 kib ", "-5", "", "1e9", "99999999999GiB", ".", "1..2MB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseByteSize(s)
		if err != nil {
			if !strings.Contains(err.Error(), "parse size") {
				t.Fatalf("ParseByteSize(%q) error %q does not say what failed", s, err)
			}
			return
		}
		if v < 0 {
			t.Fatalf("ParseByteSize(%q) = %d, want >= 0", s, v)
		}
		back, err := ParseByteSize(v.String())
		if err != nil || back != v {
			t.Fatalf("ParseByteSize(%q) = %d, but its String %q parses to %d, %v", s, v, v.String(), back, err)
		}
	})
}
