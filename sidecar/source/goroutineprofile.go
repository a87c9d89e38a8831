package source

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bounds on a goroutine profile read whole: past them the rest is left out
// (groups) or the read fails (a line), so a hostile app costs little.
const (
	// MaxStackFrames is how many frames of a stack are kept, innermost first.
	MaxStackFrames = 16
	// maxGoroutineGroups is how many stack groups are kept.
	maxGoroutineGroups = 4096
	// maxProfileLine is the longest line read.
	maxProfileLine = 64 << 10
)

// GoroutineGroup is one group of goroutines with the same stack.
type GoroutineGroup struct {
	// Count is how many goroutines have the stack.
	Count int
	// Frames are the stack's frames, innermost first, each its function
	// and its file:line ("main.serve /src/app/main.go:42"), at most
	// MaxStackFrames.
	Frames []string
}

// GoroutineProfile is net/http/pprof's goroutine?debug=1 output, grouped by
// stack.
type GoroutineProfile struct {
	// Total is the profile's "total" line: every goroutine, in or out of
	// Groups.
	Total int
	// Groups are the stack groups in the profile's order (largest first),
	// at most maxGoroutineGroups; groups whose stacks differ only past
	// MaxStackFrames or in their labels are merged.
	Groups []GoroutineGroup
}

// ParseGoroutineProfile reads a goroutine?debug=1 body: a "goroutine profile:
// total N" line, then groups each of a "COUNT @ ADDRESSES" line and its
// frames ("#\tADDRESS\tFUNCTION+OFFSET\tFILE:LINE"), separated by blank
// lines. Lines it does not know (such as "# labels: {...}") are skipped.
func ParseGoroutineProfile(r io.Reader) (GoroutineProfile, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxProfileLine)
	var p GoroutineProfile
	if !sc.Scan() {
		return p, fmt.Errorf("goroutine profile: %w", errors.Join(sc.Err(), io.ErrUnexpectedEOF))
	}
	total, err := ParseGoroutineHeader(strings.NewReader(sc.Text() + "\n"))
	if err != nil {
		return p, err
	}
	p.Total = int(total)
	index := map[string]int{} // a group's frames, joined, to its place in Groups
	var cur *GoroutineGroup
	flush := func() {
		if cur == nil {
			return
		}
		key := strings.Join(cur.Frames, "\n")
		if i, ok := index[key]; ok {
			p.Groups[i].Count += cur.Count
		} else if len(p.Groups) < maxGoroutineGroups {
			index[key] = len(p.Groups)
			p.Groups = append(p.Groups, *cur)
		}
		cur = nil
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "#\t"):
			if cur != nil && len(cur.Frames) < MaxStackFrames {
				if frame, ok := parseFrame(line); ok {
					cur.Frames = append(cur.Frames, frame)
				}
			}
		case strings.Contains(line, " @ "):
			flush()
			count, err := strconv.Atoi(line[:strings.Index(line, " @ ")])
			if err != nil || count < 0 {
				return p, fmt.Errorf("goroutine profile: bad group line %q", truncate([]byte(line), 64))
			}
			cur = &GoroutineGroup{Count: count}
		}
	}
	if err := sc.Err(); err != nil {
		return p, fmt.Errorf("goroutine profile: %w", err)
	}
	flush()
	return p, nil
}

// parseFrame turns "#\t0x4a1b2c\tmain.serve+0x25\t\t/src/app/main.go:42"
// (the columns aligned with a varying number of tabs) into
// "main.serve /src/app/main.go:42".
func parseFrame(line string) (string, bool) {
	fields := strings.FieldsFunc(strings.TrimPrefix(line, "#"), func(r rune) bool { return r == '\t' })
	if len(fields) < 2 {
		return "", false
	}
	fn := fields[1]
	if i := strings.LastIndex(fn, "+0x"); i > 0 {
		fn = fn[:i]
	}
	if len(fields) >= 3 {
		return fn + " " + fields[2], true
	}
	return fn, true
}

// Profile names of net/http/pprof read by GoroutineProfile.
const (
	// ProfileGoroutine is every goroutine's stack.
	ProfileGoroutine = "goroutine"
	// ProfileGoroutineLeak is the goroutines the runtime proved leaked
	// (blocked on something no other goroutine can reach); Go serves it
	// only when built with GOEXPERIMENT=goroutineleakprofile.
	ProfileGoroutineLeak = "goroutineleak"
)

// GoroutineProfile reads the app's profile named name (ProfileGoroutine or
// ProfileGoroutineLeak) with debug=1, aggregated by stack (never debug=2,
// which lists every goroutine), from the port the source last read. It is
// a single request outside the source's polling and backoff; call it from
// the goroutine that polls the source.
func (s *Pprof) GoroutineProfile(ctx context.Context, name string) (GoroutineProfile, error) {
	port := s.Port()
	if port == 0 {
		return GoroutineProfile{}, errors.New("the pprof handlers have not answered yet")
	}
	return getParsed(ctx, s.client, s.ep.url(port)+"/"+name+"?debug=1", "text/plain", ParseGoroutineProfile)
}
