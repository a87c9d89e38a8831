package findings

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseOptionsOverridesOnlyWhatItNames(t *testing.T) {
	got, err := ParseOptions(" leak-window=5s, leak-windows=3,leak-min-growth=20 ,memory-share=0.8,memory-critical-share=0.9,memory-sustain=3s,memory-growth-window=30s,gc-window=10s,gc-share=0.1")
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		LeakWindow: 5 * time.Second, LeakWindows: 3, LeakMinGrowth: 20,
		MemoryShare: 0.8, MemoryCriticalShare: 0.9, MemorySustain: 3 * time.Second, MemoryGrowthWindow: 30 * time.Second,
		GCWindow: 10 * time.Second, GCShare: 0.1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}

	got, err = ParseOptions("gc-share=0.4")
	if err != nil {
		t.Fatal(err)
	}
	want = DefaultOptions()
	want.GCShare = 0.4
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("one key (-want +got):\n%s", diff)
	}
	if got, err := ParseOptions("  "); err != nil || got != DefaultOptions() {
		t.Errorf("empty: got %+v, %v; want the defaults", got, err)
	}
}

func TestParseOptionsReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{name: "unknown keys name the known ones", in: "leak-windw=3", want: []string{`unknown threshold "leak-windw"`, "leak-windows"}},
		{name: "a pair without a value", in: "leak-windows", want: []string{`"leak-windows" is not key=value`}},
		{name: "values of the wrong type", in: "leak-window=30,leak-windows=2.5,gc-share=most", want: []string{
			`leak-window: "30" is not a duration`, `leak-windows: "2.5" is not a whole number`, `gc-share: "most" is not a number`,
		}},
		{name: "an unknown key and a value out of range", in: "leak-windw=3,gc-share=2", want: []string{`unknown threshold "leak-windw"`, "GC share must be in (0, 1]"}},
		{name: "a key set twice", in: "gc-share=0.3,gc-share=0.4", want: []string{`"gc-share" is set twice`}},
		{name: "values out of range", in: "memory-share=1.5", want: []string{"memory share must be in (0, 1]"}},
		{name: "an infinite growth", in: "leak-min-growth=+Inf", want: []string{"leak minimum growth must be positive"}},
		{name: "a window past the bound", in: "memory-growth-window=2h", want: []string{"at most 1h0m0s"}},
		{name: "a value too long to read", in: "gc-share=" + strings.Repeat("1", maxOptionsLen), want: []string{"longer than 512 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOptions(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestOptionsStringRoundTrips(t *testing.T) {
	if s := DefaultOptions().String(); s != "" {
		t.Errorf("defaults: got %q, want empty", s)
	}
	in := "leak-window=5s,leak-windows=3,memory-sustain=3s,gc-share=0.1"
	opts, err := ParseOptions(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := opts.String(); got != in {
		t.Errorf("String: got %q, want %q", got, in)
	}
	again, err := ParseOptions(opts.String())
	if err != nil || again != opts {
		t.Errorf("parse of String: got %+v, %v; want %+v", again, err, opts)
	}
}

func FuzzParseOptions(f *testing.F) {
	f.Add("leak-window=5s,leak-windows=3")
	f.Add("gc-share=0.4,gc-share=")
	f.Add("memory-share=NaN")
	f.Fuzz(func(t *testing.T, s string) {
		opts, err := ParseOptions(s)
		if err != nil {
			return
		}
		if err := opts.Validate(); err != nil {
			t.Fatalf("ParseOptions(%q) accepted invalid options: %v", s, err)
		}
		again, err := ParseOptions(opts.String())
		if err != nil || again != opts {
			t.Fatalf("String of ParseOptions(%q) = %q does not round-trip: %+v, %v", s, opts.String(), again, err)
		}
	})
}
