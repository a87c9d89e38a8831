package diagnostics

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// parseRoots parses a PEM bundle of CA certificates strictly: anything but
// a CA certificate is an error, so a wrong bundle is caught at start.
func parseRoots(bundle []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		n++
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("diagnostics CA bundle: block %d is a %q, not a CERTIFICATE", n, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("diagnostics CA bundle: certificate %d: %w", n, err)
		}
		if !cert.IsCA {
			return nil, fmt.Errorf("diagnostics CA bundle: certificate %d (%s) is not a CA", n, cert.Subject)
		}
		pool.AddCert(cert)
	}
	if n == 0 {
		return nil, errors.New("diagnostics CA bundle: no PEM certificate in it")
	}
	return pool, nil
}

// TLSConfig is the diagnostics port's TLS: a serving key made at start, and
// a client certificate required, verified against the bundle's roots, for
// client authentication, with the client name as its common name.
func TLSConfig(opts Options) (*tls.Config, error) {
	opts = opts.WithDefaults()
	roots, err := parseRoots(opts.ClientCAs)
	if err != nil {
		return nil, err
	}
	cert, err := servingCertificate(time.Now())
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    roots,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no client certificate")
			}
			if cn := cs.PeerCertificates[0].Subject.CommonName; cn != opts.ClientName {
				return fmt.Errorf("client certificate for %q, not %q", cn, opts.ClientName)
			}
			return nil
		},
	}, nil
}

// servingCertificate is a self-signed certificate for a key made now. The
// diagnostics server finds the sidecar by its pod's address, read from the
// API server, as kube-apiserver's own pod proxy does: this certificate
// encrypts the connection; the client's is what authenticates.
func servingCertificate(now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("diagnostics serving key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("diagnostics serving certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "gopherscope-sidecar"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("diagnostics serving certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
