// Package testlog collects a logr logger's lines for tests to search.
package testlog

import (
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// Lines is what a logger wrote, one funcr line (its key-value pairs) per
// entry; safe for concurrent use.
type Lines struct {
	mu    sync.Mutex
	lines []string
}

// Logger returns a logger that writes into l.
func (l *Lines) Logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.lines = append(l.lines, strings.TrimSpace(prefix+" "+args))
	}, funcr.Options{})
}

// All returns every line so far.
func (l *Lines) All() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Matching returns the lines that contain every fragment.
func (l *Lines) Matching(fragments ...string) []string {
	var out []string
	for _, line := range l.All() {
		all := true
		for _, f := range fragments {
			all = all && strings.Contains(line, f)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// Find returns the first line that contains every fragment, or "".
func (l *Lines) Find(fragments ...string) string {
	if m := l.Matching(fragments...); len(m) > 0 {
		return m[0]
	}
	return ""
}

// String is every line, one per line.
func (l *Lines) String() string { return strings.Join(l.All(), "\n") }
