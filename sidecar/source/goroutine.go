package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxHeaderBytes bounds the first line read from goroutine?debug=1.
const maxHeaderBytes = 256

var goroutineHeaderPrefix = []byte("goroutine profile: total ")

// ParseGoroutineHeader reads only the first line of net/http/pprof's
// goroutine?debug=1 output, "goroutine profile: total N", and returns N. The
// rest of the body (every goroutine's stack) is never read.
func ParseGoroutineHeader(r io.Reader) (int64, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxHeaderBytes), maxHeaderBytes).ReadSlice('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("read goroutine profile header: %w", err)
	}
	line = bytes.TrimRight(line, "\r\n")
	rest, ok := bytes.CutPrefix(line, goroutineHeaderPrefix)
	if !ok {
		return 0, fmt.Errorf("goroutine profile header %q: want %q", truncate(line, 64), goroutineHeaderPrefix)
	}
	n, err := strconv.ParseInt(string(rest), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("goroutine profile header %q: bad total", truncate(line, 64))
	}
	return n, nil
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
