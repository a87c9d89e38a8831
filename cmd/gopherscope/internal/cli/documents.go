package cli

import (
	"bytes"
)

// document is one YAML document of a stream, kept as the exact bytes read so
// that what is not injected is written back unchanged.
type document struct {
	// separator is the "---" line that opened the document, with its line
	// ending; empty for a first document without one.
	separator []byte
	// body is the document's text after the separator.
	body []byte
	// line is the 1-based line number where body starts.
	line int
}

// splitDocuments cuts a YAML stream at its document markers: lines that
// start with "---" followed by nothing, a space or a tab. In YAML such a line
// always starts a new document, even inside a block scalar, so no parsing is
// needed. Concatenating separator+body of every document gives data back.
func splitDocuments(data []byte) []document {
	var docs []document
	cur := document{line: 1}
	line := 1
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n') + 1
		if end == 0 {
			end = len(data)
		}
		text := data[:end]
		if isSeparator(text) {
			if len(cur.separator) > 0 || len(cur.body) > 0 {
				docs = append(docs, cur)
			}
			cur = document{separator: text, line: line + 1}
		} else {
			cur.body = append(cur.body, text...)
		}
		data = data[end:]
		line++
	}
	if len(cur.separator) > 0 || len(cur.body) > 0 {
		docs = append(docs, cur)
	}
	return docs
}

// isSeparator reports whether a line (with its line ending) is a "---" marker.
func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}

// isBlank reports whether a document body holds only blank lines and comments.
func isBlank(body []byte) bool {
	for line := range bytes.Lines(body) {
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) > 0 && trimmed[0] != '#' {
			return false
		}
	}
	return true
}

// leadingComments returns the comment and blank lines at the top of a body,
// kept when the rest of the document is rewritten.
func leadingComments(body []byte) []byte {
	n := 0
	for line := range bytes.Lines(body) {
		trimmed := bytes.TrimSpace(line)
		if len(trimmed) > 0 && trimmed[0] != '#' {
			break
		}
		n += len(line)
	}
	return body[:n]
}
