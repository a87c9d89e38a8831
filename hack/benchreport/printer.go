package main

import (
	"fmt"
	"io"
)

// printer writes formatted output and keeps the first write error, so a
// report is written line by line and checked once.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
