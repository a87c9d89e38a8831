package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
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
// returns its go_* and process_* families sorted by name, within the limits
// (MaxSeriesPerFamily, MaxSeries, MaxSamples), and what the limits left out.
// The text formats are read line by line and parsed one family at a time,
// so a large exposition costs no more memory than the lines kept of it.
func ParsePrometheus(r io.Reader, format expfmt.Format) ([]*dto.MetricFamily, Dropped, error) {
	switch format.FormatType() {
	case expfmt.TypeProtoDelim:
		return parseProtoDelimited(r)
	case expfmt.TypeOpenMetrics, expfmt.TypeTextPlain:
	default:
		format = expfmt.NewFormat(expfmt.TypeTextPlain)
	}
	s := newTextStream(format)
	fams, err := s.read(r)
	if err != nil {
		return nil, Dropped{}, err
	}
	return fams, s.budget.dropped, nil
}

// maxProtoFamilyBytes caps one family's message in a delimited protobuf
// exposition, which is decoded whole before the limits apply to it.
const maxProtoFamilyBytes = 1 << 20

// parseProtoDelimited reads a delimited protobuf exposition one family at a
// time: each message's length is checked before expfmt decodes it.
func parseProtoDelimited(r io.Reader) ([]*dto.MetricFamily, Dropped, error) {
	br := bufio.NewReader(r)
	b := newBudget()
	var out []*dto.MetricFamily
	for {
		size, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, Dropped{}, fmt.Errorf("parse exposition: %w", err)
		}
		if size > maxProtoFamilyBytes {
			return nil, Dropped{}, fmt.Errorf("parse exposition: a family of %d bytes, more than the %d allowed", size, maxProtoFamilyBytes)
		}
		message := io.MultiReader(bytes.NewReader(binary.AppendUvarint(nil, size)), io.LimitReader(br, int64(size)))
		f := &dto.MetricFamily{}
		if err := expfmt.NewDecoder(message, expfmt.NewFormat(expfmt.TypeProtoDelim)).Decode(f); err != nil {
			return nil, Dropped{}, fmt.Errorf("parse exposition: %w", err)
		}
		if !PassesThrough(f.GetName()) {
			continue
		}
		b.admitFamily(f)
		if len(f.GetMetric()) > 0 {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, b.dropped, nil
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
// r.Prometheus, and what the limits left out of them into
// r.PrometheusDropped.
func (s *Prometheus) FetchInto(ctx context.Context, r *Readings) error {
	fams, dropped, err := s.Fetch(ctx)
	if err == nil && fams == nil {
		fams = []*dto.MetricFamily{} // the app answered: it is up
	}
	r.Prometheus, r.PrometheusDropped = fams, dropped
	return err
}

// Fetch reads the app's go_* and process_* families once, within the
// limits, and says what the limits left out.
func (s *Prometheus) Fetch(ctx context.Context) ([]*dto.MetricFamily, Dropped, error) {
	var (
		out     []*dto.MetricFamily
		dropped Dropped
	)
	err := s.poll(ctx, func(ctx context.Context, url string) error {
		return s.client.Get(ctx, url, acceptPrometheus, func(body io.Reader, header http.Header) error {
			var err error
			out, dropped, err = ParsePrometheus(body, expfmt.ResponseFormat(header))
			return err
		})
	})
	if err != nil {
		return nil, Dropped{}, err
	}
	return out, dropped, nil
}
