package config

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// DiagnosticsCAKey is the key of the diagnostics CA bundle in the ConfigMap
// the diagnostics server publishes it in (the webhook's
// --diagnostics-ca-configmap).
const DiagnosticsCAKey = "ca.crt"

// Bounds of a diagnostics CA bundle: it holds one or two roots (a new one is
// published alongside the old one before it signs anything), and every
// injected pod carries it in its sidecar's environment.
const (
	// MaxDiagnosticsCABytes bounds the bundle as read.
	MaxDiagnosticsCABytes = 64 << 10
	// MaxDiagnosticsCACertificates bounds the number of roots in it.
	MaxDiagnosticsCACertificates = 8
)

// ParseDiagnosticsCA checks a PEM bundle of the diagnostics CA's roots as
// strictly as the sidecar does when it starts (every block a CERTIFICATE
// that parses and is a CA), and more: nothing but white space outside the
// blocks, at least one and at most MaxDiagnosticsCACertificates roots, at
// most MaxDiagnosticsCABytes. It returns the roots and the bundle
// re-encoded (the blocks alone, without headers or surrounding text), which
// is what pods get: base64 lines only, so no $(VAR) the kubelet would expand
// in an env value.
func ParseDiagnosticsCA(data []byte) ([]*x509.Certificate, string, error) {
	if len(data) > MaxDiagnosticsCABytes {
		return nil, "", fmt.Errorf("the bundle is %d bytes long, more than %d", len(data), MaxDiagnosticsCABytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "", errors.New("the bundle is empty (the diagnostics server has not published its roots yet)")
	}
	var roots []*x509.Certificate
	var out bytes.Buffer
	for rest := data; len(bytes.TrimSpace(rest)) > 0; {
		n := len(roots) + 1
		var block *pem.Block
		// pem.Decode skips any text before a block: refuse it instead.
		if rest = bytes.TrimLeft(rest, " \t\r\n"); bytes.HasPrefix(rest, []byte("-----BEGIN ")) {
			block, rest = pem.Decode(rest)
		}
		switch {
		case block == nil:
			return nil, "", fmt.Errorf("block %d: not PEM (want -----BEGIN CERTIFICATE-----)", n)
		case block.Type != "CERTIFICATE":
			return nil, "", fmt.Errorf("block %d is a %q, not a CERTIFICATE", n, block.Type)
		case n > MaxDiagnosticsCACertificates:
			return nil, "", fmt.Errorf("more than %d certificates", MaxDiagnosticsCACertificates)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("certificate %d: %w", n, err)
		}
		if !cert.IsCA {
			return nil, "", fmt.Errorf("certificate %d (%s) is not a CA", n, cert.Subject)
		}
		roots = append(roots, cert)
		// Writing PEM to a bytes.Buffer cannot fail.
		_ = pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes})
	}
	// pem.Decode also skips a malformed block to decode the next one.
	if begins := bytes.Count(data, []byte("-----BEGIN ")); begins != len(roots) {
		return nil, "", fmt.Errorf("%d of its %d PEM blocks are malformed (a BEGIN line without its END?)", begins-len(roots), begins)
	}
	return roots, out.String(), nil
}
