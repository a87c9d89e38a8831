package injector

import (
	"strconv"
	"unicode/utf8"
)

// maxQuoted bounds how much of a user's value a warning or message repeats:
// values are hostile input and warnings travel back to kubectl.
const maxQuoted = 64

// quote renders a user's value for a message: Go-quoted (control characters
// and invalid UTF-8 escaped) and cut after maxQuoted bytes on a rune boundary.
func quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "… (" + strconv.Itoa(len(v)) + " bytes)"
}
