// Package testpki makes the certificate authorities and certificates of the
// tests and the local cluster: a CA per use, serving and client
// certificates it issues, written atomically.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certValidity is how long issued certificates are valid: longer than any run.
const certValidity = 24 * time.Hour

// CA signs serving and client certificates, as cert-manager's CA issuer
// would.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// PEM is the CA certificate, the webhook configuration's caBundle.
	PEM []byte
}

// NewCA generates a self-signed CA.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gopherscope-test-ca"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(certValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA: %w", err)
	}
	return &CA{cert: cert, key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Pool is a pool holding the CA alone.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// Serving is an issued serving certificate.
type Serving struct {
	// CertPEM and KeyPEM are tls.crt and tls.key.
	CertPEM, KeyPEM []byte
	// Serial is the certificate's serial number (decimal), as
	// loadgen.CertificateSeen reports it.
	Serial string
}

// Issue signs a new serving certificate (with a new key and a random
// serial) for 127.0.0.1.
func (ca *CA) Issue() (*Serving, error) {
	return ca.IssueFor(CertSpec{CommonName: "gopherscope-webhook", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true})
}

// CertSpec says whom an issued certificate names and what it may be used for.
type CertSpec struct {
	// CommonName and Organization are the subject: for a client of the API
	// server, its user name and groups.
	CommonName   string
	Organization []string
	// IPs and DNSNames are the names a server certificate is valid for.
	IPs      []net.IP
	DNSNames []string
	// Server and Client choose the extended key usages.
	Server, Client bool
}

// IssueFor signs a new certificate (with a new key and a random serial) as
// spec says.
func (ca *CA) IssueFor(spec CertSpec) (*Serving, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key for %s: %w", spec.CommonName, err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: spec.CommonName, Organization: spec.Organization},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		IPAddresses:  spec.IPs,
		DNSNames:     spec.DNSNames,
	}
	if spec.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if spec.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %s: %w", spec.CommonName, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key for %s: %w", spec.CommonName, err)
	}
	return &Serving{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		Serial:  serial.String(),
	}, nil
}

// TLSCertificate is the certificate and its key, for a tls.Config.
func (s *Serving) TLSCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(s.CertPEM, s.KeyPEM)
}

// WriteTo writes tls.key and tls.crt into dir, each atomically (written
// next to its place, then renamed over it), the key first: a reader sees
// an old or a new file, never half of one.
func (s *Serving) WriteTo(dir string) error {
	for _, f := range []struct {
		name string
		data []byte
	}{{"tls.key", s.KeyPEM}, {"tls.crt", s.CertPEM}} {
		if err := ReplaceFile(filepath.Join(dir, f.name), f.data); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceFile writes data next to path and renames it over path.
func ReplaceFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s over %s: %w", tmp, path, err)
	}
	return nil
}

// randomSerial is a random 127-bit serial number.
func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}
	return n, nil
}
