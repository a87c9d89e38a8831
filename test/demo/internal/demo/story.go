package demo

import (
	"fmt"
	"io"
)

// story prints the demo's narrative. A failed write (the terminal went
// away) is kept, later writes are skipped, and Run reports it at the end.
type story struct {
	w   io.Writer
	err error
}

// say prints a formatted line.
func (s *story) say(format string, args ...any) {
	if s.err != nil {
		return
	}
	_, s.err = fmt.Fprintf(s.w, format+"\n", args...)
}

// step prints the heading of step n of 6.
func (s *story) step(n int, format string, args ...any) {
	s.say("\n[%d/6] "+format, append([]any{n}, args...)...)
}

// detail prints an indented line under a step; it fits localcluster's Logf.
func (s *story) detail(format string, args ...any) {
	s.say("      "+format, args...)
}
