package sidecar

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/go-logr/logr"

	"github.com/gopherscope/gopherscope/sidecar/history"
)

// benchSampler samples a fake app with expvar, pprof and client_golang's
// /metrics once, so the snapshot holds the largest normalized exposition.
func benchSampler(b *testing.B, metricsPath string) *Sampler {
	b.Helper()
	target := newFakeTarget(b)
	target.serve(map[string]http.HandlerFunc{
		varsPath:    fixtureBody(b, "vars.json"),
		indexPath:   fixtureBody(b, "pprof-index.html"),
		metricsPath: fixtureBody(b, "client-golang.prom"),
	})
	s := NewSampler(testOptions(target.port(), metricsPath), history.New(360), logr.Discard())
	b.Cleanup(s.Close)
	s.SampleOnce(b.Context())
	return s
}

// BenchmarkMetricsRender is one scrape of /metrics after the first of the
// sample (which renders it): what each further Prometheus server costs the
// sidecar (and nothing to the app).
func BenchmarkMetricsRender(b *testing.B) {
	s := benchSampler(b, metricsPath)
	h := MetricsHandler(s, logr.Discard())
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkSampleOnceWithScrapers is one sample of an expvar+pprof app and
// its scrapes by 1, 2 and 10 Prometheus servers asking for gzip, as an HA
// pair does: the first scrape renders, the others get the same bytes.
func BenchmarkSampleOnceWithScrapers(b *testing.B) {
	for _, scrapers := range []int{1, 2, 10} {
		b.Run(strconv.Itoa(scrapers), func(b *testing.B) {
			s := benchSampler(b, "")
			h := MetricsHandler(s, logr.Discard())
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept-Encoding", "gzip")
			b.ReportAllocs()
			for b.Loop() {
				s.SampleOnce(b.Context())
				for range scrapers {
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatal(rec.Code)
					}
				}
			}
		})
	}
}

// BenchmarkSampleOnce is one sample of an expvar+pprof app over loopback
// HTTP: two requests, parsing, normalization and the snapshot.
func BenchmarkSampleOnce(b *testing.B) {
	s := benchSampler(b, "")
	b.ReportAllocs()
	for b.Loop() {
		if snap := s.SampleOnce(b.Context()); !snap.TargetUp {
			b.Fatal("target down")
		}
	}
}

// BenchmarkSampleOncePrometheus is one sample of an app with all three
// endpoints, client_golang's /metrics included.
func BenchmarkSampleOncePrometheus(b *testing.B) {
	s := benchSampler(b, metricsPath)
	b.ReportAllocs()
	for b.Loop() {
		if snap := s.SampleOnce(b.Context()); !snap.TargetUp {
			b.Fatal("target down")
		}
	}
}

// BenchmarkSampleOnceFindings is one sample of an app with all three
// endpoints with the findings' detectors off and on: make bench compares
// the two, and the detectors may add at most 10%. (Reading a goroutine
// profile for a leak happens once per ten minutes at most, not per sample.)
func BenchmarkSampleOnceFindings(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			s := benchSampler(b, metricsPath)
			if !on {
				s.detectors = nil
			} else if s.detectors == nil {
				b.Fatal("the sampler has no detectors")
			}
			b.ReportAllocs()
			for b.Loop() {
				if snap := s.SampleOnce(b.Context()); !snap.TargetUp {
					b.Fatal("target down")
				}
			}
		})
	}
}
