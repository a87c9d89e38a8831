package selftls

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// The keys of the roots' Secret. root signs; next is published and not yet
// signing; prev is the root next replaced, kept (certificate only) in the
// bundle until it expires, so leaves another replica signed with it before
// it saw the change stay trusted.
const (
	keyRootCert = "root.crt"
	keyRootKey  = "root.key"
	keyNextCert = "next.crt"
	keyNextKey  = "next.key"
	keyPrevCert = "prev.crt"
)

// clockSkew backdates every certificate, so a peer whose clock is a little
// behind accepts it.
const clockSkew = 5 * time.Minute

// keyPair is a certificate and its key.
type keyPair struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// roots is the content of the roots' Secret.
type roots struct {
	root, next keyPair
	prev       *x509.Certificate
}

// parseRoots reads the Secret's data; a missing or unreadable root is nil
// (with the reason in err), a missing or unreadable next or prev is
// dropped: next is made again, prev only widened the bundle.
func parseRoots(data map[string][]byte) (r roots, err error) {
	if len(data[keyRootCert]) == 0 && len(data[keyRootKey]) == 0 {
		return roots{}, nil
	}
	if r.root, err = parseKeyPair(data[keyRootCert], data[keyRootKey]); err != nil {
		return roots{}, fmt.Errorf("%s/%s: %w", keyRootCert, keyRootKey, err)
	}
	if next, err := parseKeyPair(data[keyNextCert], data[keyNextKey]); err == nil {
		r.next = next
	}
	if prev, err := parseCert(data[keyPrevCert]); err == nil {
		r.prev = prev
	}
	return r, nil
}

// data is what the Secret holds for r.
func (r roots) data() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, kp := range []struct {
		certKey, keyKey string
		pair            keyPair
	}{{keyRootCert, keyRootKey, r.root}, {keyNextCert, keyNextKey, r.next}} {
		if kp.pair.cert == nil {
			continue
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(kp.pair.key)
		if err != nil {
			return nil, err
		}
		out[kp.certKey] = certPEM(kp.pair.cert)
		out[kp.keyKey] = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	}
	if r.prev != nil {
		out[keyPrevCert] = certPEM(r.prev)
	}
	return out, nil
}

// bundle is the public PEM bundle: the signing root, the next one and the
// previous one while it is valid at now, in that order.
func (r roots) bundle(now time.Time) []byte {
	var b bytes.Buffer
	b.Write(certPEM(r.root.cert))
	if r.next.cert != nil {
		b.Write(certPEM(r.next.cert))
	}
	if r.prev != nil && now.Before(r.prev.NotAfter) {
		b.Write(certPEM(r.prev))
	}
	return b.Bytes()
}

// rootPolicy is how long roots live and when they change.
type rootPolicy struct {
	// validity is a root's lifetime.
	validity time.Duration
	// overlap: a next root is published when the signing one has less
	// than overlap left, and starts signing when it has less than half of
	// overlap left; so every pod injected in the first half of the overlap
	// trusts both.
	overlap time.Duration
}

// advance returns the roots as they must be at now, and whether they
// changed: a first root, a next one published, a next one promoted, an
// expired root replaced.
func (p rootPolicy) advance(r roots, now time.Time) (roots, bool, error) {
	switch {
	case r.root.cert == nil || !now.Before(r.root.cert.NotAfter):
		// No root, or one that expired unrotated (the server was off
		// through the whole overlap): a promoted next if there is a valid
		// one, else a new root.
		if r.next.cert != nil && now.Before(r.next.cert.NotAfter) {
			return roots{root: r.next}, true, nil
		}
		root, err := newRoot(now, p.validity)
		return roots{root: root}, true, err
	case r.next.cert != nil && r.root.cert.NotAfter.Sub(now) < p.overlap/2:
		return roots{root: r.next, prev: r.root.cert}, true, nil
	case r.next.cert == nil && r.root.cert.NotAfter.Sub(now) < p.overlap:
		next, err := newRoot(now, p.validity)
		r.next = next
		return r, true, err
	}
	if r.prev != nil && !now.Before(r.prev.NotAfter) {
		r.prev = nil
		return r, true, nil
	}
	return r, false, nil
}

// newRoot makes a self-signed CA certificate valid from now for validity.
func newRoot(now time.Time, validity time.Duration) (keyPair, error) {
	key, serial, err := newKey()
	if err != nil {
		return keyPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gopherscope-diagnostics-root-" + now.UTC().Format("20060102T150405Z")},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return keyPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	return keyPair{cert: cert, key: key}, err
}

// leafSpec describes a leaf certificate.
type leafSpec struct {
	commonName string
	dnsNames   []string
	usage      x509.ExtKeyUsage
}

// issue signs a leaf for spec with the signing root, valid from now for
// validity (never past the root's own expiry).
func (r roots) issue(spec leafSpec, now time.Time, validity time.Duration) (keyPair, error) {
	key, serial, err := newKey()
	if err != nil {
		return keyPair{}, err
	}
	notAfter := now.Add(validity)
	if notAfter.After(r.root.cert.NotAfter) {
		notAfter = r.root.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: spec.commonName},
		DNSNames:     spec.dnsNames,
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{spec.usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, r.root.cert, key.Public(), r.root.key)
	if err != nil {
		return keyPair{}, err
	}
	cert, err := x509.ParseCertificate(der)
	return keyPair{cert: cert, key: key}, err
}

// newKey makes an ECDSA P-256 key and a random 128-bit serial number for
// a new certificate.
func newKey() (*ecdsa.PrivateKey, *big.Int, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return key, serial, err
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func parseCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// parseKeyPair reads a CA certificate and its PKCS#8 key, and checks that
// they belong together.
func parseKeyPair(certData, keyData []byte) (keyPair, error) {
	cert, err := parseCert(certData)
	if err != nil {
		return keyPair{}, err
	}
	if !cert.IsCA {
		return keyPair{}, errors.New("the certificate is not a CA")
	}
	block, _ := pem.Decode(keyData)
	if block == nil {
		return keyPair{}, errors.New("no PEM key")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return keyPair{}, err
	}
	key, ok := parsed.(crypto.Signer)
	if !ok {
		return keyPair{}, fmt.Errorf("the key (%T) cannot sign", parsed)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return keyPair{}, errors.New("the key does not match the certificate")
	}
	return keyPair{cert: cert, key: key}, nil
}

// fingerprint names a certificate in logs.
func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:8])
}
