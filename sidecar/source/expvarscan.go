package source

import (
	"bytes"
	"math"
)

// parseExpvarFast reads the shape expvar writes, an object of variables
// with "memstats" an object of unsigned integers and of PauseNs an array of
// them, in one pass that skips (and checks) everything else without
// decoding it. That is most of the cost of a sample: encoding/json checks
// the whole body, then decodes it while scanning PauseEnd and BySize again.
//
// It answers only when it is certain to agree with encoding/json (a fuzz
// target compares them): the whole body is valid JSON, keys that matter are
// written exactly (no escape, no other letter case, which encoding/json
// would match too, no repeat) and every value it keeps is a plain integer
// in range. On anything else ok is false and the caller decodes with
// encoding/json, which also writes the error.
func parseExpvarFast(body []byte) (data *ExpvarData, ok bool) {
	p := &jsonScanner{s: body}
	p.space()
	if !p.consume('{') {
		return nil, false
	}
	var (
		ms               MemStats
		cmdline          []byte
		seenMem, seenCmd bool
	)
	first := true
	for {
		p.space()
		if first && p.consume('}') {
			break
		}
		first = false
		key, ok := p.plainKey()
		if !ok {
			return nil, false
		}
		switch {
		case string(key) == "memstats" && !seenMem:
			seenMem = true
			if !p.memStats(&ms) {
				return nil, false
			}
		case string(key) == "cmdline" && !seenCmd:
			seenCmd = true
			start := p.i
			if !p.skipValue(0) {
				return nil, false
			}
			cmdline = body[start:p.i]
		case bytes.EqualFold(key, []byte("memstats")) || bytes.EqualFold(key, []byte("cmdline")):
			return nil, false // a repeat, or a spelling encoding/json would match
		default:
			if !p.skipValue(0) {
				return nil, false
			}
		}
		p.space()
		if p.consume(',') {
			continue
		}
		if !p.consume('}') {
			return nil, false
		}
		break
	}
	p.space()
	if p.i != len(body) || !seenMem {
		return nil, false
	}
	return &ExpvarData{MemStats: ms, CmdlineHash: hashCmdline(cmdline)}, true
}

// memStatsField returns the MemStats field that an exact expvar name fills
// and a bit of its own for noticing repeats; nil, 0 for other names.
func memStatsField(ms *MemStats, key []byte) (*uint64, uint32) {
	switch string(key) {
	case "Alloc":
		return &ms.Alloc, 1 << 0
	case "TotalAlloc":
		return &ms.TotalAlloc, 1 << 1
	case "Sys":
		return &ms.Sys, 1 << 2
	case "Mallocs":
		return &ms.Mallocs, 1 << 3
	case "Frees":
		return &ms.Frees, 1 << 4
	case "HeapAlloc":
		return &ms.HeapAlloc, 1 << 5
	case "HeapSys":
		return &ms.HeapSys, 1 << 6
	case "HeapIdle":
		return &ms.HeapIdle, 1 << 7
	case "HeapInuse":
		return &ms.HeapInuse, 1 << 8
	case "HeapReleased":
		return &ms.HeapReleased, 1 << 9
	case "HeapObjects":
		return &ms.HeapObjects, 1 << 10
	case "StackInuse":
		return &ms.StackInuse, 1 << 11
	case "StackSys":
		return &ms.StackSys, 1 << 12
	case "MSpanInuse":
		return &ms.MSpanInuse, 1 << 13
	case "MSpanSys":
		return &ms.MSpanSys, 1 << 14
	case "MCacheInuse":
		return &ms.MCacheInuse, 1 << 15
	case "MCacheSys":
		return &ms.MCacheSys, 1 << 16
	case "BuckHashSys":
		return &ms.BuckHashSys, 1 << 17
	case "GCSys":
		return &ms.GCSys, 1 << 18
	case "OtherSys":
		return &ms.OtherSys, 1 << 19
	case "NextGC":
		return &ms.NextGC, 1 << 20
	case "LastGC":
		return &ms.LastGC, 1 << 21
	case "PauseTotalNs":
		return &ms.PauseTotalNs, 1 << 22
	}
	return nil, 0
}

// Bits of the MemStats fields that are not a uint64.
const (
	bitPauseNs uint32 = 1 << 23
	bitNumGC   uint32 = 1 << 24
)

// foldsToMemStatsField reports whether key names a MemStats field in some
// letter case: encoding/json would fill the field from it.
func foldsToMemStatsField(key []byte) bool {
	switch string(bytes.ToLower(key)) {
	case "alloc", "totalalloc", "sys", "mallocs", "frees", "heapalloc", "heapsys", "heapidle",
		"heapinuse", "heapreleased", "heapobjects", "stackinuse", "stacksys", "mspaninuse", "mspansys",
		"mcacheinuse", "mcachesys", "buckhashsys", "gcsys", "othersys", "nextgc", "lastgc", "pausetotalns",
		"pausens", "numgc":
		return true
	}
	return false
}

// memStats reads the memstats object into ms.
func (p *jsonScanner) memStats(ms *MemStats) bool {
	p.space()
	if !p.consume('{') {
		return false
	}
	var seen uint32
	first := true
	for {
		p.space()
		if first && p.consume('}') {
			return true
		}
		first = false
		key, ok := p.plainKey()
		if !ok {
			return false
		}
		p.space()
		field, bit := memStatsField(ms, key)
		switch string(key) {
		case "PauseNs":
			bit = bitPauseNs
		case "NumGC":
			bit = bitNumGC
		}
		switch {
		case bit != 0:
			if seen&bit != 0 {
				return false
			}
			seen |= bit
			switch bit {
			case bitPauseNs:
				ok = p.pauses(&ms.PauseNs)
			case bitNumGC:
				var n uint64
				if n, ok = p.uint(math.MaxUint32); ok && n <= math.MaxUint32 {
					ms.NumGC = uint32(n)
				}
			default:
				*field, ok = p.uint(math.MaxUint64)
			}
		case foldsToMemStatsField(key):
			return false
		default:
			ok = p.skipValue(1)
		}
		if !ok {
			return false
		}
		p.space()
		if p.consume(',') {
			continue
		}
		return p.consume('}')
	}
}

// pauses reads PauseNs: positions past the array's end are checked, not kept,
// as encoding/json does.
func (p *jsonScanner) pauses(out *[256]uint64) bool {
	if !p.consume('[') {
		return false
	}
	p.space()
	if p.consume(']') {
		return true
	}
	for n := 0; ; n++ {
		p.space()
		var ok bool
		if n < len(out) {
			out[n], ok = p.uint(math.MaxUint64)
		} else {
			ok = p.skipValue(2)
		}
		if !ok {
			return false
		}
		p.space()
		if p.consume(',') {
			continue
		}
		return p.consume(']')
	}
}
