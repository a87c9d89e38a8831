package source

// jsonScanner walks a JSON document, checking what it skips.
type jsonScanner struct {
	s []byte
	i int
}

// maxScanDepth bounds nesting; deeper documents are left to encoding/json.
const maxScanDepth = 1000

func (p *jsonScanner) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) consume(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// plainKey reads a key, its colon and the space after it; a key with an escape or a byte
// outside ASCII is not plain.
func (p *jsonScanner) plainKey() ([]byte, bool) {
	if !p.consume('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			key := p.s[start:p.i]
			p.i++
			p.space()
			if !p.consume(':') {
				return nil, false
			}
			p.space()
			return key, true
		}
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// uint reads a plain non-negative integer up to limit; a sign, fraction,
// exponent, leading zero or overflow is not plain.
func (p *jsonScanner) uint(limit uint64) (uint64, bool) {
	start := p.i
	var n uint64
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		d := uint64(p.s[p.i] - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
		p.i++
	}
	digits := p.i - start
	if digits == 0 || digits > 1 && p.s[start] == '0' {
		return 0, false
	}
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
		default:
			return 0, false
		}
	}
	return n, true
}

// skipValue checks and skips one value at nesting depth.
func (p *jsonScanner) skipValue(depth int) bool {
	if depth > maxScanDepth || p.i >= len(p.s) {
		return false
	}
	switch p.s[p.i] {
	case '"':
		return p.skipString()
	case '{', '[':
		return p.skipContainer(depth)
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	default:
		return p.skipNumber()
	}
}

func (p *jsonScanner) skipContainer(depth int) bool {
	closer := byte('}')
	if p.s[p.i] == '[' {
		closer = ']'
	}
	p.i++
	p.space()
	if p.consume(closer) {
		return true
	}
	for {
		p.space()
		if closer == '}' {
			if p.i >= len(p.s) || p.s[p.i] != '"' || !p.skipString() {
				return false
			}
			p.space()
			if !p.consume(':') {
				return false
			}
			p.space()
		}
		if !p.skipValue(depth + 1) {
			return false
		}
		p.space()
		if p.consume(',') {
			continue
		}
		return p.consume(closer)
	}
}

func (p *jsonScanner) skipString() bool {
	p.i++ // the opening quote
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return false
			}
			switch p.s[p.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i += 2
			case 'u':
				if p.i+6 > len(p.s) || !isHex4(p.s[p.i+2:p.i+6]) {
					return false
				}
				p.i += 6
			default:
				return false
			}
		default:
			p.i++
		}
	}
	return false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

func (p *jsonScanner) literal(word string) bool {
	if len(p.s)-p.i < len(word) || string(p.s[p.i:p.i+len(word)]) != word {
		return false
	}
	p.i += len(word)
	return true
}

// skipNumber checks a number's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonScanner) skipNumber() bool {
	p.consume('-')
	switch {
	case p.consume('0'):
	case p.i < len(p.s) && p.s[p.i] >= '1' && p.s[p.i] <= '9':
		p.digits()
	default:
		return false
	}
	if p.consume('.') && !p.digits() {
		return false
	}
	if p.consume('e') || p.consume('E') {
		if !p.consume('+') {
			p.consume('-')
		}
		if !p.digits() {
			return false
		}
	}
	return true
}

// digits skips one or more digits.
func (p *jsonScanner) digits() bool {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}
