package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// acceptPrometheus asks for the classic text format only: client_golang's
// OpenMetrics output names the family of go_memstats_alloc_bytes_total like
// the go_memstats_alloc_bytes gauge, which expfmt's strict OpenMetrics
// parser rejects. An app that answers OpenMetrics or delimited protobuf
// regardless is read with expfmt's parser for that format.
const acceptPrometheus = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

// PassesThrough reports whether a family of the app's own exposition is kept:
// the Go runtime's go_* and the process collector's process_* families. The
// app's other series are its scrape config's business, not the sidecar's.
func PassesThrough(name string) bool {
	return strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_")
}

// ParsePrometheus decodes a Prometheus exposition in the given format (as
// returned by expfmt.ResponseFormat; unknown means the text format) and
// returns its go_* and process_* families sorted by name. For the text
// formats, lines of other families are dropped before parsing, so a large
// exposition costs no more memory than its go_* and process_* lines.
func ParsePrometheus(r io.Reader, format expfmt.Format) ([]*dto.MetricFamily, error) {
	if typ := format.FormatType(); typ != expfmt.TypeProtoDelim {
		if typ != expfmt.TypeOpenMetrics && typ != expfmt.TypeTextPlain {
			format = expfmt.NewFormat(expfmt.TypeTextPlain)
		}
		kept, err := filterLines(r)
		if err != nil {
			return nil, fmt.Errorf("read exposition: %w", err)
		}
		r = kept
	}
	dec := expfmt.NewDecoder(r, format)
	var out []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse exposition: %w", err)
		}
		if PassesThrough(mf.GetName()) && len(mf.GetMetric()) > 0 {
			out = append(out, mf)
		}
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, nil
}

// filterLines copies the lines of r that belong to a passed-through family
// (samples, HELP, TYPE and UNIT lines) and OpenMetrics' "# EOF".
func filterLines(r io.Reader) (*bytes.Buffer, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out bytes.Buffer
	keep, atLineStart := false, true
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if atLineStart {
				keep = keepLine(chunk)
			}
			if keep {
				out.Write(chunk)
			}
			atLineStart = chunk[len(chunk)-1] == '\n'
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			if keep && !atLineStart {
				out.WriteByte('\n')
			}
			return &out, nil
		default:
			return nil, err
		}
	}
}

// keepLine decides on a line from its start.
func keepLine(line []byte) bool {
	line = bytes.TrimLeft(line, " \t")
	if rest, ok := bytes.CutPrefix(line, []byte("#")); ok {
		fields := bytes.Fields(rest)
		if len(fields) == 1 && string(fields[0]) == "EOF" {
			return true
		}
		if len(fields) < 2 {
			return false
		}
		switch string(fields[0]) {
		case "HELP", "TYPE", "UNIT":
			return PassesThrough(string(fields[1]))
		}
		return false
	}
	return bytes.HasPrefix(line, []byte("go_")) || bytes.HasPrefix(line, []byte("process_"))
}

// Prometheus is the source reading the app's own Prometheus endpoint.
type Prometheus struct{ poller }

// NewPrometheus returns the source for the app's Prometheus endpoint at path.
func NewPrometheus(cfg Config, path string) *Prometheus {
	return &Prometheus{newPoller(cfg, path)}
}

// Name returns "prometheus".
func (*Prometheus) Name() string { return "prometheus" }

// FetchInto reads the app's go_* and process_* families once into
// r.Prometheus.
func (s *Prometheus) FetchInto(ctx context.Context, r *Readings) error {
	fams, err := s.Fetch(ctx)
	if err == nil && fams == nil {
		fams = []*dto.MetricFamily{} // the app answered: it is up
	}
	r.Prometheus = fams
	return err
}

// Fetch reads the app's go_* and process_* families once.
func (s *Prometheus) Fetch(ctx context.Context) ([]*dto.MetricFamily, error) {
	var out []*dto.MetricFamily
	err := s.poll(ctx, func(ctx context.Context, url string) error {
		return s.client.Get(ctx, url, acceptPrometheus, func(body io.Reader, header http.Header) error {
			fams, err := ParsePrometheus(body, expfmt.ResponseFormat(header))
			out = fams
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
