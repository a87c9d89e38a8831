package source

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
)

// MemStats holds the fields of runtime.MemStats that the normalizer maps,
// as expvar publishes them under "memstats".
type MemStats struct {
	Alloc        uint64
	TotalAlloc   uint64
	Sys          uint64
	Mallocs      uint64
	Frees        uint64
	HeapAlloc    uint64
	HeapSys      uint64
	HeapIdle     uint64
	HeapInuse    uint64
	HeapReleased uint64
	HeapObjects  uint64
	StackInuse   uint64
	StackSys     uint64
	MSpanInuse   uint64
	MSpanSys     uint64
	MCacheInuse  uint64
	MCacheSys    uint64
	BuckHashSys  uint64
	GCSys        uint64
	OtherSys     uint64
	NextGC       uint64
	LastGC       uint64 // Unix time of the last GC, in nanoseconds
	PauseTotalNs uint64
	PauseNs      [256]uint64 // circular buffer of recent pauses, see runtime.MemStats
	NumGC        uint32
	// GCCPUFraction is the share of the app's available CPU the GC has
	// used since the app started.
	GCCPUFraction float64
}

// ExpvarData is what one read of /debug/vars yields.
type ExpvarData struct {
	// MemStats is the app's runtime.MemStats.
	MemStats MemStats
	// CmdlineHash identifies the app's command line (0 when absent): a new
	// value means a different process.
	CmdlineHash uint64
}

// ParseExpvar decodes expvar's JSON with encoding/json. Only "memstats" and
// "cmdline" are kept; everything else the app publishes is skipped. A body
// without memstats is an error. The command line is only hashed, never kept
// (it may hold secrets); one of an unexpected type is hashed as it was
// written rather than failing the whole body.
func ParseExpvar(body []byte) (*ExpvarData, error) {
	var doc struct {
		Cmdline  json.RawMessage `json:"cmdline"`
		MemStats *MemStats       `json:"memstats"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode expvar JSON: %w", err)
	}
	if doc.MemStats == nil {
		return nil, errors.New("decode expvar JSON: no memstats")
	}
	return &ExpvarData{MemStats: *doc.MemStats, CmdlineHash: hashCmdline(doc.Cmdline)}, nil
}

// hashCmdline hashes expvar's command line, as written (0 when absent or
// null); one that is not a list of strings is hashed as its JSON text.
func hashCmdline(raw []byte) uint64 {
	if len(raw) == 0 || string(raw) == "null" {
		return 0
	}
	h := fnv.New64a()
	var args []string
	if err := json.Unmarshal(raw, &args); err != nil {
		args = []string{string(raw)}
	}
	for _, arg := range args {
		_, _ = h.Write([]byte(arg))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// Expvar is the source reading expvar's /debug/vars.
type Expvar struct {
	poller
	buf []byte // the body buffer, reused across reads
}

// NewExpvar returns the source for the expvar handler at path.
func NewExpvar(cfg Config, path string) *Expvar {
	return &Expvar{poller: newPoller(cfg, path)}
}

// Name returns "expvar".
func (*Expvar) Name() string { return "expvar" }

// FetchInto reads the app's memstats once into r.Expvar.
func (s *Expvar) FetchInto(ctx context.Context, r *Readings) error {
	d, err := s.Fetch(ctx)
	r.Expvar = d
	return err
}

// Fetch reads the app's memstats once.
func (s *Expvar) Fetch(ctx context.Context) (*ExpvarData, error) {
	var out *ExpvarData
	err := s.poll(ctx, func(ctx context.Context, url string) error {
		body, err := s.client.GetBytes(ctx, url, "application/json", s.buf)
		s.buf = body[:0]
		if cap(s.buf) > maxKeptBuffer {
			s.buf = nil // a rare large answer is not kept alive
		}
		if err != nil {
			return err
		}
		out, err = ParseExpvar(body)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
