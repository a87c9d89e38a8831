package diagnostics

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gopherscope/gopherscope/internal/testpki"
)

func TestOptionsRejectABadCABundle(t *testing.T) {
	ca := testpki.NewCAForTest(t)
	leaf, err := ca.IssueFor(testpki.CertSpec{CommonName: "leaf", Client: true})
	if err != nil {
		t.Fatal(err)
	}
	leafPEM := string(leaf.CertPEM)
	for _, tc := range []struct {
		name, bundle, want string
	}{
		{"an empty bundle", "", "no PEM certificate in it"},
		{"text that is not PEM", "not a certificate", "no PEM certificate in it"},
		{"a private key", pemBlock("EC PRIVATE KEY", []byte{1, 2}), `block 1 is a "EC PRIVATE KEY", not a CERTIFICATE`},
		{"a certificate that does not parse", pemBlock("CERTIFICATE", []byte("junk")), "certificate 1:"},
		{"a leaf certificate", string(ca.PEM) + leafPEM, "certificate 2 (CN=leaf) is not a CA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{ListenAddress: ":9185", ClientCAs: []byte(tc.bundle)}
			err := opts.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v; want %q", err, tc.want)
			}
		})
	}
	t.Run("a disabled port needs no bundle", func(t *testing.T) {
		if err := (&Options{}).Validate(); err != nil {
			t.Error(err)
		}
	})
	t.Run("two roots, as during a rotation", func(t *testing.T) {
		opts := Options{ListenAddress: ":9185", ClientCAs: append(append([]byte{}, ca.PEM...), testpki.NewCAForTest(t).PEM...)}
		if err := opts.Validate(); err != nil {
			t.Error(err)
		}
	})
}

func TestANewRootIsTrustedAlongsideTheOld(t *testing.T) {
	a := newApp(t)
	next := testpki.NewCAForTest(t)
	p := newPort(t, Options{ClientCAs: next.PEM}, func() (string, error) { return a.url, nil })
	for i, ca := range []*testpki.CA{p.ca, next} {
		cert := ca.IssueTLS(t, testpki.CertSpec{CommonName: DefaultClientName, Client: true})
		if got := get(t, p.client(&cert), p.url+"goroutine"); got.status != http.StatusOK {
			t.Errorf("client of root %d: %d %v", i+1, got.status, got.err)
		}
	}
}
