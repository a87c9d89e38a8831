package source

import "bytes"

// labelsKey hashes the labels of a sample line (what follows its name)
// except le and quantile, which tell apart the samples of one histogram or
// summary series. Consecutive lines with the same key are one series.
func (s *textStream) labelsKey(rest []byte) uint64 {
	s.hash.Reset()
	rest = bytes.TrimLeft(rest, " \t")
	if len(rest) == 0 || rest[0] != '{' {
		return s.hash.Sum64()
	}
	for i := 1; i < len(rest); {
		end := pairEnd(rest, i)
		pair := rest[i:end]
		name, _, _ := bytes.Cut(pair, []byte("="))
		switch string(bytes.TrimSpace(name)) {
		case "le", "quantile":
		default:
			_, _ = s.hash.Write(pair) // a maphash.Hash does not fail
			_ = s.hash.WriteByte(0)
		}
		if end >= len(rest) || rest[end] == '}' {
			break
		}
		i = end + 1
	}
	return s.hash.Sum64()
}

// pairEnd returns the index of the ',' or '}' that ends the label pair
// starting at from, outside quotes, or len(b).
func pairEnd(b []byte, from int) int {
	inQuotes, escaped := false, false
	for i := from; i < len(b); i++ {
		switch c := b[i]; {
		case escaped:
			escaped = false
		case inQuotes && c == '\\':
			escaped = true
		case c == '"':
			inQuotes = !inQuotes
		case !inQuotes && (c == ',' || c == '}'):
			return i
		}
	}
	return len(b)
}
