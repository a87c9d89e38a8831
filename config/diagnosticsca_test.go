package config

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gopherscope/gopherscope/internal/testpki"
)

func TestParseDiagnosticsCAAcceptsOneOrTwoRoots(t *testing.T) {
	old, next := testpki.NewCAForTest(t), testpki.NewCAForTest(t)
	tests := []struct {
		name      string
		data      []byte
		wantRoots int
		want      string
	}{
		{"one root", old.PEM, 1, string(old.PEM)},
		{"two roots, the new one published alongside the old", append(append([]byte{}, old.PEM...), next.PEM...), 2, string(old.PEM) + string(next.PEM)},
		{"white space around and between the blocks is dropped", []byte("\n  " + string(old.PEM) + "\r\n\n" + string(next.PEM) + "\n\n"), 2, string(old.PEM) + string(next.PEM)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roots, bundle, err := ParseDiagnosticsCA(tt.data)
			if err != nil {
				t.Fatalf("ParseDiagnosticsCA: %v", err)
			}
			if len(roots) != tt.wantRoots || !roots[0].IsCA {
				t.Errorf("roots = %d, want %d CAs", len(roots), tt.wantRoots)
			}
			if bundle != tt.want {
				t.Errorf("bundle =\n%s\nwant\n%s", bundle, tt.want)
			}
		})
	}
}

func TestParseDiagnosticsCARefusesWhatTheSidecarCouldNotUse(t *testing.T) {
	root := testpki.NewCAForTest(t)
	leaf, err := root.Issue()
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Replace(root.PEM, []byte("\n"), []byte("\n!"), 2)
	truncated := root.PEM[:len(root.PEM)-30]
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"nothing", nil, "the bundle is empty"},
		{"white space", []byte(" \n\t\n"), "the bundle is empty"},
		{"text that is not PEM", []byte("hello"), "block 1: not PEM"},
		{"text before a certificate", append([]byte("roots:\n"), root.PEM...), "block 1: not PEM"},
		{"text after a certificate", append(append([]byte{}, root.PEM...), "trailer"...), "block 2: not PEM"},
		{"a private key", leaf.KeyPEM, `block 1 is a "EC PRIVATE KEY", not a CERTIFICATE`},
		{"a certificate that is not a CA", leaf.CertPEM, "certificate 1 (CN=gopherscope-webhook) is not a CA"},
		{"a root followed by a leaf", append(append([]byte{}, root.PEM...), leaf.CertPEM...), "certificate 2 (CN=gopherscope-webhook) is not a CA"},
		{"a corrupt block", corrupt, "block 1: not PEM"},
		{"a block without its END before a good one", append(append([]byte{}, truncated...), root.PEM...), "block 1: not PEM"},
		{"a BEGIN line alone before a good block", append([]byte("-----BEGIN CERTIFICATE-----\n"), root.PEM...), "1 of its 2 PEM blocks are malformed"},
		{"garbage in a CERTIFICATE block", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "certificate 1: x509:"},
		{"too many roots", bytes.Repeat(root.PEM, MaxDiagnosticsCACertificates+1), "more than 8 certificates"},
		{"too long", bytes.Repeat([]byte(" "), MaxDiagnosticsCABytes+1), "65537 bytes long, more than 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roots, bundle, err := ParseDiagnosticsCA(tt.data)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParseDiagnosticsCA error = %v, want one containing %q", err, tt.wantErr)
			}
			if roots != nil || bundle != "" {
				t.Errorf("with an error it returned %d roots and %q", len(roots), bundle)
			}
		})
	}
}

func FuzzParseDiagnosticsCA(f *testing.F) {
	root := testpki.NewCAForTest(f)
	f.Add(root.PEM)
	f.Add(append(append([]byte{}, root.PEM...), root.PEM...))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		roots, bundle, err := ParseDiagnosticsCA(data)
		if err != nil {
			return
		}
		// What is accepted parses again to the same roots and bundle.
		again, bundleAgain, err := ParseDiagnosticsCA([]byte(bundle))
		if err != nil || bundleAgain != bundle || len(again) != len(roots) {
			t.Fatalf("the re-encoded bundle parses to %d roots, %v (first pass: %d roots)", len(again), err, len(roots))
		}
	})
}
