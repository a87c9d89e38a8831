package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// textStream reads a text exposition (Prometheus text or OpenMetrics) line
// by line, keeps the lines of passed-through families within the limits,
// and hands expfmt one family at a time: the parser never sees more than
// one family's kept lines, and those are bounded by the budget.
type textStream struct {
	format      expfmt.Format
	openMetrics bool
	budget      *budget
	byName      map[string]*dto.MetricFamily
	sawEOF      bool
	// parser reads the Prometheus text format, reused from family to family.
	parser expfmt.TextParser

	// The current family: its name, its HELP, TYPE and UNIT lines, and the
	// sample lines kept of it.
	family      string
	descriptors int
	header      bytes.Buffer
	body        bytes.Buffer

	// The current series of the family.
	inSeries      bool
	seriesKey     uint64
	seriesStart   int // offset in body of its first line
	seriesSamples int
	keepSeries    bool

	hash maphash.Hash
}

// maxDescriptors is the most HELP, TYPE and UNIT lines a family may have.
const maxDescriptors = 3

// suffixes are the endings of sample names that belong to the family named
// without them (histograms, summaries and OpenMetrics' counters, info and
// gauge histograms).
var suffixes = []string{"_bucket", "_sum", "_count", "_total", "_created", "_gcount", "_gsum", "_info"}

func newTextStream(format expfmt.Format) *textStream {
	scheme := model.LegacyValidation // as expfmt.NewDecoder chooses
	if format.ToEscapingScheme() == model.NoEscaping {
		scheme = model.UTF8Validation
	}
	s := &textStream{
		format:      format,
		openMetrics: format.FormatType() == expfmt.TypeOpenMetrics,
		budget:      newBudget(),
		byName:      map[string]*dto.MetricFamily{},
		parser:      expfmt.NewTextParser(scheme),
	}
	s.hash.SetSeed(maphash.MakeSeed())
	return s
}

// read consumes r and returns the kept families, sorted by name.
func (s *textStream) read(r io.Reader) ([]*dto.MetricFamily, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	keep, atLineStart := false, true
	for {
		chunk, readErr := br.ReadSlice('\n')
		if len(chunk) > 0 {
			if atLineStart {
				var err error
				if keep, err = s.lineStart(chunk); err != nil {
					return nil, err
				}
			}
			if keep {
				_, _ = s.current().Write(chunk) // a bytes.Buffer's writes cannot fail
			}
			atLineStart = chunk[len(chunk)-1] == '\n'
		}
		switch {
		case readErr == nil, errors.Is(readErr, bufio.ErrBufferFull):
		case errors.Is(readErr, io.EOF):
			if keep && !atLineStart {
				_ = s.current().WriteByte('\n') // as above
			}
			return s.finish()
		default:
			return nil, fmt.Errorf("read exposition: %w", readErr)
		}
	}
}

// current is the buffer the line being read goes to.
func (s *textStream) current() *bytes.Buffer {
	if s.inSeries {
		return &s.body
	}
	return &s.header
}

// lineStart decides on a line from its start: whether it is kept, and
// whether it starts a new family or series.
func (s *textStream) lineStart(line []byte) (bool, error) {
	line = bytes.TrimLeft(line, " \t")
	if rest, ok := bytes.CutPrefix(line, []byte("#")); ok {
		fields := bytes.Fields(rest)
		if len(fields) == 1 && string(fields[0]) == "EOF" {
			s.sawEOF = true
			return false, nil
		}
		if len(fields) < 2 || !PassesThrough(string(fields[1])) {
			return false, nil
		}
		switch string(fields[0]) {
		case "HELP", "TYPE", "UNIT":
		default:
			return false, nil
		}
		if err := s.afterEOF(); err != nil {
			return false, err
		}
		if string(fields[1]) != s.family {
			if err := s.startFamily(string(fields[1])); err != nil {
				return false, err
			}
		}
		if s.descriptors++; s.descriptors > maxDescriptors {
			return false, fmt.Errorf("parse exposition: family %s has more than %d HELP, TYPE and UNIT lines", s.family, maxDescriptors)
		}
		s.inSeries = false
		return true, nil
	}
	end := bytes.IndexAny(line, "{ \t\r\n")
	if end < 0 {
		end = len(line)
	}
	name := line[:end]
	if !PassesThrough(string(name)) {
		return false, nil
	}
	if err := s.afterEOF(); err != nil {
		return false, err
	}
	if !s.belongs(name) {
		if err := s.startFamily(string(name)); err != nil {
			return false, err
		}
	}
	key := s.labelsKey(line[end:])
	if !s.inSeries || key != s.seriesKey {
		s.inSeries, s.seriesKey, s.seriesSamples = true, key, 0
		s.seriesStart = s.body.Len()
		s.keepSeries = s.budget.admitSeries(s.family)
	}
	if !s.keepSeries {
		return false, nil
	}
	if !s.budget.addSamples(s.family, s.seriesSamples, 1) {
		s.body.Truncate(s.seriesStart)
		s.keepSeries = false
		return false, nil
	}
	s.seriesSamples++
	return true, nil
}

// afterEOF refuses a passed-through line after OpenMetrics' "# EOF".
func (s *textStream) afterEOF() error {
	if s.openMetrics && s.sawEOF {
		return errors.New("parse exposition: data after # EOF")
	}
	return nil
}

// belongs reports whether a sample called name is of the current family.
func (s *textStream) belongs(name []byte) bool {
	if s.family == "" {
		return false
	}
	rest, ok := bytes.CutPrefix(name, []byte(s.family))
	return ok && (len(rest) == 0 || slices.Contains(suffixes, string(rest)))
}

// startFamily parses the current family and starts the next.
func (s *textStream) startFamily(name string) error {
	if err := s.flush(); err != nil {
		return err
	}
	s.family, s.descriptors, s.inSeries = name, 0, false
	return nil
}

// flush hands the current family's kept lines to expfmt and merges what it
// returns into the kept families.
func (s *textStream) flush() error {
	defer func() { s.header.Reset(); s.body.Reset() }()
	if s.body.Len() == 0 {
		return nil
	}
	fams, err := s.parse(io.MultiReader(&s.header, &s.body))
	if err != nil {
		return fmt.Errorf("parse exposition: %w", err)
	}
	slices.SortFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	for _, f := range fams {
		if err := s.merge(f); err != nil {
			return err
		}
	}
	return nil
}

// parse reads one family's kept lines with expfmt.
func (s *textStream) parse(r io.Reader) ([]*dto.MetricFamily, error) {
	var fams []*dto.MetricFamily
	if !s.openMetrics {
		byName, err := s.parser.TextToMetricFamilies(r)
		for _, f := range byName {
			fams = append(fams, f)
		}
		return fams, err
	}
	dec := expfmt.NewDecoder(io.MultiReader(r, strings.NewReader("# EOF\n")), s.format)
	for {
		f := &dto.MetricFamily{}
		err := dec.Decode(f)
		if errors.Is(err, io.EOF) {
			return fams, nil
		}
		if err != nil {
			return nil, err
		}
		fams = append(fams, f)
	}
}

// merge adds a parsed family to the kept ones. A family whose lines came in
// two places is joined, within MaxSeriesPerFamily.
func (s *textStream) merge(f *dto.MetricFamily) error {
	if !PassesThrough(f.GetName()) || len(f.GetMetric()) == 0 {
		return nil
	}
	prev, ok := s.byName[f.GetName()]
	if !ok {
		s.byName[f.GetName()] = f
		return nil
	}
	if prev.GetType() != f.GetType() {
		return fmt.Errorf("parse exposition: family %s appears twice, as %s and %s", f.GetName(), prev.GetType(), f.GetType())
	}
	for _, m := range f.GetMetric() {
		if len(prev.Metric) >= MaxSeriesPerFamily {
			s.budget.dropped.FamilyLimit++
			continue
		}
		prev.Metric = append(prev.Metric, m)
	}
	return nil
}

// finish parses the last family and returns every kept one, sorted.
func (s *textStream) finish() ([]*dto.MetricFamily, error) {
	if s.openMetrics && !s.sawEOF {
		return nil, errors.New("parse exposition: OpenMetrics data does not end with # EOF")
	}
	if err := s.flush(); err != nil {
		return nil, err
	}
	out := make([]*dto.MetricFamily, 0, len(s.byName))
	for _, f := range s.byName {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, nil
}
