package testpki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

func TestIssuedCertificatesServeLoopbackUnderTheCA(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var serials []string
	for range 2 {
		s, err := ca.Issue()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WriteTo(dir); err != nil {
			t.Fatal(err)
		}
		pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
		if err != nil {
			t.Fatalf("the written files are not a key pair: %v", err)
		}
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "127.0.0.1"}); err != nil {
			t.Errorf("the certificate does not verify for 127.0.0.1 under the CA: %v", err)
		}
		if leaf.SerialNumber.String() != s.Serial {
			t.Errorf("serial %s, reported %s", leaf.SerialNumber, s.Serial)
		}
		serials = append(serials, s.Serial)
	}
	if serials[0] == serials[1] {
		t.Errorf("two issued certificates share serial %s", serials[0])
	}
	if block, _ := pem.Decode(ca.PEM); block == nil || block.Type != "CERTIFICATE" {
		t.Errorf("CA PEM is not a certificate: %q", ca.PEM)
	}
	if _, err := os.Stat(filepath.Join(dir, "tls.crt.tmp")); !os.IsNotExist(err) {
		t.Errorf("a temporary file was left behind: %v", err)
	}
}
