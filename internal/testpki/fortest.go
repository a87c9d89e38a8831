package testpki

import (
	"crypto/tls"
	"testing"
)

// NewCAForTest is NewCA, failing t on an error.
func NewCAForTest(t testing.TB) *CA {
	t.Helper()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// IssueTLS issues a certificate as spec says and returns it ready for a
// tls.Config, failing t on an error.
func (ca *CA) IssueTLS(t testing.TB, spec CertSpec) tls.Certificate {
	t.Helper()
	s, err := ca.IssueFor(spec)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := s.TLSCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
