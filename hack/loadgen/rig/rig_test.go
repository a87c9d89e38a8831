package rig

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVMRSS(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{name: "the VmRSS line in kB", status: "Name:\tsidecar\nVmPeak:\t 1 kB\nVmRSS:\t   12140 kB\nThreads:\t7\n", want: 12140 << 10},
		{name: "no VmRSS line (a kernel thread)", status: "Name:\tkthreadd\nThreads:\t1\n", wantErr: true},
		{name: "an unexpected unit", status: "VmRSS:\t12 MB\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := vmRSS([]byte(tt.status))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("vmRSS = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{name: "utime and stime in ticks", stat: "3823 (sidecar) S 1 3822 3822 0 -1 4194560 1200 0 0 0 31 4 0 0 20 0 7 0", want: 350 * time.Millisecond},
		{name: "a command name with spaces and parentheses", stat: "42 (a (b) c) R 1 1 1 0 -1 0 0 0 0 0 100 200 0 0", want: 3 * time.Second},
		{name: "a truncated line", stat: "42 (x) R 1 1", wantErr: true},
		{name: "no command name", stat: "42 x R", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statCPU([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("statCPU = %s, %v; want %s, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestReadUsageOfThisProcess(t *testing.T) {
	before, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until this process has used 50ms more CPU (the machine may be
	// shared, so wall time says little), reading as we go.
	var after Usage
	deadline := time.Now().Add(10 * time.Second)
	for spins := 0; ; spins++ {
		if spins%100_000 == 0 {
			if after, err = ReadUsage(os.Getpid()); err != nil {
				t.Fatal(err)
			}
			if after.CPU-before.CPU >= 50*time.Millisecond || time.Now().After(deadline) {
				break
			}
		}
	}
	if before.RSSBytes < 1<<20 {
		t.Errorf("RSS %d bytes, want at least 1 MiB for a Go test binary", before.RSSBytes)
	}
	if got := after.CPU - before.CPU; got < 50*time.Millisecond {
		t.Errorf("spinning for 10s counted %s of CPU, want 50ms", got)
	}
	// utime+stime counts in 10ms ticks, and the kernel may attribute the
	// spin to ticks a little before or after.
	if got := after.CPUTicks - before.CPUTicks; got < 20*time.Millisecond {
		t.Errorf("utime+stime grew by %s while CPU grew by %s", got, after.CPU-before.CPU)
	}
}

func TestSummarize(t *testing.T) {
	at := time.Unix(100, 0)
	readings := []Usage{
		{At: at, RSSBytes: 10, CPU: time.Second, CPUTicks: time.Second},
		{At: at.Add(time.Second), RSSBytes: 30, CPU: 2 * time.Second, CPUTicks: 2 * time.Second},
		{At: at.Add(2 * time.Second), RSSBytes: 20, CPU: 4 * time.Second, CPUTicks: 3 * time.Second},
	}
	want := Span{StartRSS: 10, PeakRSS: 30, EndRSS: 20, CPU: 3 * time.Second, CPUTicks: 2 * time.Second, Elapsed: 2 * time.Second}
	if diff := cmp.Diff(want, Summarize(readings)); diff != "" {
		t.Errorf("Summarize (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Span{}, Summarize(nil)); diff != "" {
		t.Errorf("Summarize(nil) (-want +got):\n%s", diff)
	}
}
