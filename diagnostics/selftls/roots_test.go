package selftls

import (
	"crypto/x509"
	"testing"
	"time"
)

// TestRootsRotateWithAnOverlap walks a root's life: created, the next one
// published at the overlap while the first still signs, the next signing
// at half the overlap with the first kept in the bundle, and the first
// dropped once expired; at every step a leaf signed then verifies against
// the bundle published before it.
func TestRootsRotateWithAnOverlap(t *testing.T) {
	p := rootPolicy{validity: 100 * time.Hour, overlap: 20 * time.Hour}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	r, changed, err := p.advance(roots{}, start)
	if err != nil || !changed || r.root.cert == nil || r.next.cert != nil {
		t.Fatalf("advance(empty) = %+v, %v, %v; want a new root alone", r, changed, err)
	}
	first := r.root.cert
	if _, changed, _ := p.advance(r, start.Add(79*time.Hour)); changed {
		t.Error("roots changed 21h before expiry; want no change before the 20h overlap")
	}

	// The overlap begins: a next root is published, the first still signs.
	published := start.Add(81 * time.Hour)
	r, changed, err = p.advance(r, published)
	if err != nil || !changed || r.next.cert == nil || !r.root.cert.Equal(first) {
		t.Fatalf("at 19h before expiry: changed=%v err=%v next=%v; want the next root published beside the first", changed, err, r.next.cert != nil)
	}
	podBundle := r.bundle(published)                         // what a pod injected now trusts
	if got := len(pool(t, podBundle).Subjects()); got != 2 { //nolint:staticcheck // counting the roots only
		t.Fatalf("bundle has %d roots; want 2", got)
	}
	verify(t, r, podBundle, published)

	// Half the overlap: the next root signs; the first stays in the bundle.
	handover := start.Add(91 * time.Hour)
	r, changed, err = p.advance(r, handover)
	if err != nil || !changed || r.root.cert.Equal(first) || r.next.cert != nil || !r.prev.Equal(first) {
		t.Fatalf("at 9h before expiry: changed=%v err=%v; want the next root signing and the first kept as prev", changed, err)
	}
	verify(t, r, podBundle, handover) // the pod injected during the overlap trusts the new signer
	verify(t, r, r.bundle(handover), handover)

	// The first root expires: it leaves the bundle.
	r, changed, _ = p.advance(r, start.Add(101*time.Hour))
	if !changed || r.prev != nil {
		t.Errorf("after the first root's expiry: changed=%v prev=%v; want prev dropped", changed, r.prev != nil)
	}
	if got := len(pool(t, r.bundle(start.Add(101*time.Hour))).Subjects()); got != 1 { //nolint:staticcheck // counting the roots only
		t.Errorf("bundle has %d roots after the expiry; want 1", got)
	}
}

// TestAnExpiredRootIsReplaced: a server that was off through the whole
// overlap finds an expired root; it promotes a valid next root, else makes
// a new one.
func TestAnExpiredRootIsReplaced(t *testing.T) {
	p := rootPolicy{validity: 100 * time.Hour, overlap: 20 * time.Hour}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, _, _ := p.advance(roots{}, start)
	first := r.root.cert
	r2, changed, err := p.advance(r, start.Add(200*time.Hour))
	if err != nil || !changed || r2.root.cert.Equal(first) || !r2.root.cert.NotAfter.After(start.Add(200*time.Hour)) {
		t.Errorf("advance(expired) changed=%v err=%v; want a new valid root", changed, err)
	}
	r, _, _ = p.advance(r, start.Add(85*time.Hour)) // next published
	next := r.next.cert
	r3, _, _ := p.advance(r, start.Add(150*time.Hour))
	if !r3.root.cert.Equal(next) {
		t.Error("an expired root with a valid next one: the next one should sign")
	}
}

// TestRootsSurviveTheSecret: what data() writes, parseRoots reads back;
// a broken next or prev is dropped, a broken root is an error.
func TestRootsSurviveTheSecret(t *testing.T) {
	p := rootPolicy{validity: 100 * time.Hour, overlap: 20 * time.Hour}
	start := time.Now()
	r, _, _ := p.advance(roots{}, start.Add(-85*time.Hour))
	r, _, _ = p.advance(r, start)
	data, err := r.data()
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseRoots(data)
	if err != nil || !back.root.cert.Equal(r.root.cert) || !back.next.cert.Equal(r.next.cert) {
		t.Fatalf("parseRoots(data()) = %+v, %v; want the same roots", back, err)
	}
	verify(t, back, r.bundle(start), start)

	data[keyNextKey] = []byte("garbage")
	if back, err := parseRoots(data); err != nil || back.next.cert != nil || back.root.cert == nil {
		t.Errorf("a broken next key: %v, next kept=%v; want the root kept and next dropped", err, back.next.cert != nil)
	}
	data[keyRootKey] = data[keyNextCert] // a certificate where the key belongs
	if _, err := parseRoots(data); err == nil {
		t.Error("a broken root key parsed; want an error")
	}
	other, _, _ := p.advance(roots{}, start)
	otherData, _ := other.data()
	data[keyRootKey] = otherData[keyRootKey]
	if _, err := parseRoots(data); err == nil {
		t.Error("a root with another root's key parsed; want an error")
	}
}

// verify signs a serving and a client leaf with r at now and checks both
// against the bundle, each for its own use only.
func verify(t *testing.T, r roots, bundle []byte, now time.Time) {
	t.Helper()
	roots := pool(t, bundle)
	for _, tc := range []struct {
		usage, other x509.ExtKeyUsage
	}{{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, {x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}} {
		leaf, err := r.issue(leafSpec{commonName: "x", dnsNames: []string{"x.ns.svc"}, usage: tc.usage}, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leaf.cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{tc.usage}}); err != nil {
			t.Errorf("leaf for %v does not verify against the bundle: %v", tc.usage, err)
		}
		if _, err := leaf.cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{tc.other}}); err == nil {
			t.Errorf("leaf for %v also verifies for %v", tc.usage, tc.other)
		}
	}
}

func pool(t *testing.T, bundle []byte) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(bundle) {
		t.Fatalf("bundle has no certificates:\n%s", bundle)
	}
	return p
}
