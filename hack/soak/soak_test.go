package main

import (
	"strings"
	"testing"
	"time"

	"github.com/gopherscope/gopherscope/hack/loadgen"
	"github.com/gopherscope/gopherscope/hack/loadgen/rig"
)

func TestConfigChurnChecks(t *testing.T) {
	t0 := time.Now().Add(-time.Minute)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	writes := []configWrite{
		{at: at(0), valid: true, why: "interval 11s", interval: "11s"},
		{at: at(5), valid: false, why: "not YAML", interval: "11s"},
		{at: at(10), valid: true, why: "interval 12s", interval: "12s"},
	}
	log := strings.Repeat(reloadedMessage+"\n", 2) + rejectedMessage + "\n"
	obs := func(pairs ...any) []observation {
		var out []observation
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, observation{at: at(pairs[i].(float64)), interval: pairs[i+1].(string)})
		}
		return out
	}
	tests := []struct {
		name     string
		seen     []observation
		log      string
		wantOK   []bool
		wantText string
	}{
		{name: "valid configs take effect after a moment and survive an invalid one",
			seen: obs(0.5, "10s", 3.0, "11s", 7.0, "11s", 10.5, "11s", 12.5, "12s"), log: log, wantOK: []bool{true, true}},
		{name: "an invalid config that reverts to the default is caught",
			seen: obs(3.0, "11s", 8.0, "10s", 12.5, "12s"), log: log, wantOK: []bool{false, true}, wantText: "injected --interval=10s, want 11s"},
		{name: "a valid config that never takes effect is caught",
			seen: obs(3.0, "11s", 12.5, "11s", 14.0, "11s"), log: log, wantOK: []bool{false, true}, wantText: "writing interval 12s never took effect"},
		{name: "a missing rejection in the log is caught",
			seen: obs(3.0, "11s", 12.5, "12s"), log: strings.Repeat(reloadedMessage+"\n", 2), wantOK: []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &configChurn{writes: writes, seen: tt.seen, logEnd: []byte(tt.log)}
			checks := c.checks(nil)
			if len(checks) != len(tt.wantOK) {
				t.Fatalf("%d checks, want %d", len(checks), len(tt.wantOK))
			}
			for i, ch := range checks {
				if ch.ok != tt.wantOK[i] {
					t.Errorf("check %q ok = %v, want %v (%s)", ch.what, ch.ok, tt.wantOK[i], ch.detail)
				}
			}
			if tt.wantText != "" && !strings.Contains(checks[0].detail, tt.wantText) {
				t.Errorf("detail %q, want it to mention %q", checks[0].detail, tt.wantText)
			}
		})
	}
}

func TestRotationChecksEveryRotatedCertificateWasSeen(t *testing.T) {
	end := time.Now()
	r := &rotation{end: end, issued: []issued{
		{serial: "1", at: end.Add(-10 * time.Second)},
		{serial: "2", at: end.Add(-5 * time.Second)},
		{serial: "3", at: end.Add(-time.Second)}, // too late to require
	}}
	seen := func(serials ...string) *loadgen.Result {
		res := &loadgen.Result{}
		for _, s := range serials {
			res.Certificates = append(res.Certificates, loadgen.CertificateSeen{Serial: s, Handshakes: 1})
		}
		return res
	}
	if checks := r.checks(seen("0", "1", "2")); !checks[0].ok || !checks[1].ok {
		t.Errorf("all required certificates seen: checks %+v, want both ok", checks)
	}
	if checks := r.checks(seen("0", "1", "3")); checks[1].ok || !strings.Contains(checks[1].detail, "were not seen: 2") {
		t.Errorf("certificate 2 not seen: check %+v, want it failed naming 2", checks[1])
	}
}

func TestMemoryCheck(t *testing.T) {
	readings := func(rss ...int64) []rig.Usage {
		var out []rig.Usage
		for _, r := range rss {
			out = append(out, rig.Usage{RSSBytes: r << 20})
		}
		return out
	}
	if c := memoryCheck(readings(40, 42, 41, 43, 41, 42)); !c.ok {
		t.Errorf("a flat RSS failed: %s", c.detail)
	}
	if c := memoryCheck(readings(40, 42, 45, 50, 55, 60)); c.ok {
		t.Errorf("a climbing RSS passed: %s", c.detail)
	}
}
