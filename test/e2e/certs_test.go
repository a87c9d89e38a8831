//go:build e2e

package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
)

// parseCertPEM parses the first certificate of a PEM block.
func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
