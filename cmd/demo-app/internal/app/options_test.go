package app

import (
	"strings"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ByteSize
		wantErr string
	}{
		{name: "a plain integer is bytes", in: "4096", want: 4096},
		{name: "binary units", in: "64KiB", want: 64 << 10},
		{name: "a rate suffix is accepted", in: "1MiB/s", want: 1 << 20},
		{name: "decimal units", in: "2MB", want: 2e6},
		{name: "fractions", in: "1.5GiB", want: 3 << 29},
		{name: "units are case-insensitive and may follow a space", in: " 3 kib ", want: 3 << 10},
		{name: "a bare B", in: "10B", want: 10},
		{name: "an unknown unit is refused", in: "10 parsecs", wantErr: `unknown unit "parsecs"`},
		{name: "a negative number is refused", in: "-5", wantErr: "want a number of bytes"},
		{name: "an empty string is refused", in: "", wantErr: "want a number of bytes"},
		{name: "a word is refused", in: "lots", wantErr: "want a number of bytes"},
		{name: "an absurd size is refused", in: "99999999999GiB", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseByteSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseByteSize(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseByteSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestByteSizeString(t *testing.T) {
	for in, want := range map[ByteSize]string{0: "0", 1000: "1000", 1 << 20: "1MiB", 3 << 10: "3KiB", 2 << 30: "2GiB"} {
		if got := in.String(); got != want {
			t.Errorf("ByteSize(%d).String() = %q, want %q", int64(in), got, want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Options)
		wantErr []string
	}{
		{name: "the defaults are valid", change: func(*Options) {}},
		{name: "every mode is valid", change: func(o *Options) { o.Mode = ModePprof }},
		{name: "port 0 is valid", change: func(o *Options) { o.Address = "127.0.0.1:0" }},
		{name: "an unknown mode is refused", change: func(o *Options) { o.Mode = "grpc" },
			wantErr: []string{`--mode "grpc": want expvar, prometheus or pprof`}},
		{name: "the shape knobs may start with the app", change: func(o *Options) {
			o.LeakRate, o.GrowRate, o.GrowUpTo, o.GCChurnRate = 5, 1<<20, 100<<20, 64<<20
		}},
		{name: "CPU metrics come with client_golang", change: func(o *Options) { o.Mode, o.CPUMetrics = ModePrometheus, true }},
		{name: "CPU metrics without client_golang are refused", change: func(o *Options) { o.CPUMetrics = true },
			wantErr: []string{"--cpu-metrics needs --mode=prometheus"}},
		{name: "a growth without a total is refused", change: func(o *Options) { o.GrowRate = 1 << 20 },
			wantErr: []string{"--grow-rate 1MiB needs --grow-up-to"}},
		{name: "the shape knobs' bounds hold", change: func(o *Options) {
			o.LeakRate, o.GrowRate, o.GrowUpTo, o.GCChurnRate = 10_001, 2<<30, 8<<30, 3<<30
		}, wantErr: []string{"--leak-rate 10001: want 0 to 10000", "--grow-rate 2GiB: at most 1GiB per second",
			"--grow-up-to 8GiB: at most 4GiB", "--gc-churn-rate 3GiB: at most 1GiB per second"}},
		{name: "a negative leak rate is refused", change: func(o *Options) { o.LeakRate = -1 },
			wantErr: []string{"--leak-rate -1"}},
		{name: "every bad value is reported at once", change: func(o *Options) {
			o.Address, o.DebugAddress, o.AllocRate = "8080", "nohost", 2<<30
		}, wantErr: []string{`--debug-address "nohost"`, `--address "8080"`, "--alloc-rate 2GiB: at most 1GiB per second"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.change(&o)
			err := o.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to contain %q", err, w)
				}
			}
		})
	}
}
