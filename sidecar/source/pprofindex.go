package source

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"strconv"
)

// ProfileCounts are the profile counts read from the pprof index page.
type ProfileCounts struct {
	// Goroutines is the goroutine profile's count: runtime.NumGoroutine().
	Goroutines int64
	// Threads is the threadcreate profile's count: the number of OS threads
	// created (what client_golang reports as go_threads).
	Threads int64
	// HasGoroutines and HasThreads say which counts were found.
	HasGoroutines, HasThreads bool
}

// maxIndexBytes bounds how much of the index page is read: the real page is
// about 3 KiB.
const maxIndexBytes = 1 << 20

// errNoCounts is returned for an index page that lists no goroutine count.
var errNoCounts = errors.New("pprof index lists no goroutine count")

// ParsePprofIndex reads the counts next to the "goroutine" and "threadcreate"
// links of net/http/pprof's index page. Each link's count is the last number
// in the text between the previous link and this one (the table cell before
// it in current Go, the plain text before it in old Go versions). A page
// without a goroutine count is an error; threadcreate is optional.
func ParsePprofIndex(r io.Reader) (ProfileCounts, error) {
	page, err := io.ReadAll(io.LimitReader(r, maxIndexBytes))
	if err != nil {
		return ProfileCounts{}, fmt.Errorf("read pprof index: %w", err)
	}
	var out ProfileCounts
	prevEnd := 0
	for {
		open := bytes.Index(page[prevEnd:], []byte("<a "))
		if open < 0 {
			break
		}
		open += prevEnd
		gt := bytes.IndexByte(page[open:], '>')
		if gt < 0 {
			break
		}
		textStart := open + gt + 1
		closeTag := bytes.Index(page[textStart:], []byte("</a>"))
		if closeTag < 0 {
			break
		}
		textEnd := textStart + closeTag
		name := html.UnescapeString(string(bytes.TrimSpace(page[textStart:textEnd])))
		if name == "goroutine" || name == "threadcreate" {
			if n, ok := lastNumber(page[prevEnd:open]); ok {
				switch name {
				case "goroutine":
					if !out.HasGoroutines {
						out.Goroutines, out.HasGoroutines = n, true
					}
				case "threadcreate":
					if !out.HasThreads {
						out.Threads, out.HasThreads = n, true
					}
				}
			}
		}
		prevEnd = textEnd + len("</a>")
	}
	if !out.HasGoroutines {
		return out, errNoCounts
	}
	return out, nil
}

// lastNumber returns the non-negative integer that ends the text of an HTML
// fragment, ignoring tags and white space after it.
func lastNumber(fragment []byte) (int64, bool) {
	text := stripTags(fragment)
	text = bytes.TrimRight(text, " \t\r\n")
	end := len(text)
	start := end
	for start > 0 && text[start-1] >= '0' && text[start-1] <= '9' {
		start--
	}
	if start == end || end-start > 18 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(text[start:end]), 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// stripTags removes everything between '<' and '>'.
func stripTags(b []byte) []byte {
	out := make([]byte, 0, len(b))
	inTag := false
	for _, c := range b {
		switch {
		case c == '<':
			inTag = true
		case c == '>':
			inTag = false
		case !inTag:
			out = append(out, c)
		}
	}
	return out
}
