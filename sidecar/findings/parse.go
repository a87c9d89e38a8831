package findings

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxOptionsLen bounds a thresholds string, which comes from a pod's
// annotation: a longer one is refused unread.
const maxOptionsLen = 512

// threshold is one key of the thresholds string and the field it sets.
type threshold struct {
	key      string
	duration func(*Options) *time.Duration
	number   func(*Options) *float64
	count    func(*Options) *int
}

// thresholds are the keys of ParseOptions, in the order String writes them.
var thresholds = []threshold{
	{key: "leak-window", duration: func(o *Options) *time.Duration { return &o.LeakWindow }},
	{key: "leak-windows", count: func(o *Options) *int { return &o.LeakWindows }},
	{key: "leak-min-growth", number: func(o *Options) *float64 { return &o.LeakMinGrowth }},
	{key: "memory-share", number: func(o *Options) *float64 { return &o.MemoryShare }},
	{key: "memory-critical-share", number: func(o *Options) *float64 { return &o.MemoryCriticalShare }},
	{key: "memory-sustain", duration: func(o *Options) *time.Duration { return &o.MemorySustain }},
	{key: "memory-growth-window", duration: func(o *Options) *time.Duration { return &o.MemoryGrowthWindow }},
	{key: "gc-window", duration: func(o *Options) *time.Duration { return &o.GCWindow }},
	{key: "gc-share", number: func(o *Options) *float64 { return &o.GCShare }},
}

// ThresholdKeys returns the keys ParseOptions accepts, in a fixed order.
func ThresholdKeys() []string {
	keys := make([]string, len(thresholds))
	for i, t := range thresholds {
		keys[i] = t.key
	}
	return keys
}

// ParseOptions reads thresholds written as comma-separated key=value pairs
// (e.g. "leak-windows=6,gc-share=0.4") over the defaults; a key it does not
// name keeps its default. Durations are Go durations, shares are in (0, 1].
// It reports every problem at once, and the result is valid when it does
// not fail.
func ParseOptions(s string) (Options, error) {
	opts := DefaultOptions()
	s = strings.TrimSpace(s)
	if s == "" {
		return opts, nil
	}
	if len(s) > maxOptionsLen {
		return opts, fmt.Errorf("thresholds are longer than %d characters", maxOptionsLen)
	}
	var errs []error
	seen := map[string]bool{}
	for pair := range strings.SplitSeq(s, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		i := slices.IndexFunc(thresholds, func(t threshold) bool { return t.key == key })
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("%q is not key=value", pair))
			continue
		case i < 0:
			errs = append(errs, fmt.Errorf("unknown threshold %q (known: %s)", key, strings.Join(ThresholdKeys(), ", ")))
			continue
		case seen[key]:
			errs = append(errs, fmt.Errorf("threshold %q is set twice", key))
			continue
		}
		seen[key] = true
		if err := thresholds[i].set(&opts, value); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
	}
	if err := opts.Validate(); err != nil {
		errs = append(errs, err)
	}
	return opts, errors.Join(errs...)
}

// set parses value into the field t names.
func (t threshold) set(opts *Options, value string) error {
	switch {
	case t.duration != nil:
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%q is not a duration", value)
		}
		*t.duration(opts) = d
	case t.count != nil:
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", value)
		}
		*t.count(opts) = n
	default:
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", value)
		}
		*t.number(opts) = v
	}
	return nil
}

// String writes the thresholds that differ from the defaults in
// ParseOptions' form, in a fixed order; "" for the defaults.
func (o Options) String() string {
	defaults := DefaultOptions()
	var parts []string
	for _, t := range thresholds {
		var mine, theirs string
		switch {
		case t.duration != nil:
			mine, theirs = t.duration(&o).String(), t.duration(&defaults).String()
		case t.count != nil:
			mine, theirs = strconv.Itoa(*t.count(&o)), strconv.Itoa(*t.count(&defaults))
		default:
			mine = strconv.FormatFloat(*t.number(&o), 'g', -1, 64)
			theirs = strconv.FormatFloat(*t.number(&defaults), 'g', -1, 64)
		}
		if mine != theirs {
			parts = append(parts, t.key+"="+mine)
		}
	}
	return strings.Join(parts, ",")
}
