package selftls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/gopherscope/gopherscope/config"
	sidecardiag "github.com/gopherscope/gopherscope/sidecar/diagnostics"
)

// apiServices is the resource of APIService objects.
var apiServices = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// Options configure a Manager.
type Options struct {
	// Client reads and writes the Secret and the ConfigMap; Dynamic
	// patches the APIService.
	Client  kubernetes.Interface
	Dynamic dynamic.Interface
	// Namespace holds SecretName (the roots, keys and all) and
	// ConfigMapName (the public bundle, key config.DiagnosticsCAKey, which the webhook reads). Both must exist:
	// the chart creates them empty, so the server's rights are limited to
	// get and update on these two names.
	Namespace, SecretName, ConfigMapName string
	// APIService is the APIService whose spec.caBundle is kept equal to
	// the bundle.
	APIService string
	// DNSNames are the serving certificate's names (the Service's).
	DNSNames []string
	// RootValidity is a root's lifetime; RootOverlap how long before a
	// root's expiry the next one is published (it starts signing at half
	// of that); CertValidity the lifetime of the serving and client
	// certificates, which are renewed at two thirds of it.
	RootValidity, RootOverlap, CertValidity time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives one line per change.
	Log logr.Logger
}

// Validate reports every problem at once.
func (o Options) Validate() error {
	var errs []error
	for _, f := range []struct{ name, value string }{
		{"namespace", o.Namespace}, {"Secret", o.SecretName}, {"ConfigMap", o.ConfigMapName}, {"APIService", o.APIService},
	} {
		if f.value == "" {
			errs = append(errs, fmt.Errorf("the %s is required", f.name))
		}
	}
	if len(o.DNSNames) == 0 {
		errs = append(errs, errors.New("the serving certificate needs at least one DNS name"))
	}
	if o.CertValidity < 10*time.Minute {
		errs = append(errs, fmt.Errorf("certificate validity %v is shorter than 10m", o.CertValidity))
	}
	if o.RootOverlap < 2*o.CertValidity {
		errs = append(errs, fmt.Errorf("root overlap %v is shorter than twice the certificate validity %v: a root would stop signing before the certificates it signed expire", o.RootOverlap, o.CertValidity))
	}
	if o.RootValidity <= o.RootOverlap {
		errs = append(errs, fmt.Errorf("root validity %v is not longer than the root overlap %v", o.RootValidity, o.RootOverlap))
	}
	return errors.Join(errs...)
}

// Manager keeps the diagnostics CA in the cluster and the server's two
// certificates in memory: the serving certificate the API server verifies
// against the APIService's caBundle, and the client certificate the
// sidecars verify against the bundle injected into their pods. Every
// replica runs one; they share the roots through the Secret, whose
// resourceVersion lets one writer win, and each signs its own leaves.
type Manager struct {
	opts   Options
	policy rootPolicy

	mu      sync.Mutex
	signer  *x509.Certificate // the root that signed serving and client
	serving *tls.Certificate
	client  *tls.Certificate
	renewAt time.Time
}

// New returns a Manager for valid options.
func New(opts Options) (*Manager, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Manager{opts: opts, policy: rootPolicy{validity: opts.RootValidity, overlap: opts.RootOverlap}}, nil
}

// ServingCertificate is a tls.Config's GetCertificate.
func (m *Manager) ServingCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.serving == nil {
		return nil, errors.New("no serving certificate yet: the diagnostics CA is not set up")
	}
	return m.serving, nil
}

// ClientCertificate is the certificate shown to sidecars.
func (m *Manager) ClientCertificate() (*tls.Certificate, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.client == nil {
		return nil, errors.New("no client certificate yet: the diagnostics CA is not set up")
	}
	return m.client, nil
}

// Ready says whether both certificates are there.
func (m *Manager) Ready() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.serving != nil && m.client != nil
}

// Run syncs at once, then whenever the certificates are due, at least
// every interval, and after a failure with a growing delay (5s to 1m),
// until ctx ends.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	retry := 5 * time.Second
	for {
		wait := interval
		if err := m.Sync(ctx); err != nil {
			m.opts.Log.Error(err, "diagnostics CA not in sync; retrying", "in", retry)
			wait, retry = retry, min(2*retry, time.Minute)
		} else {
			retry = 5 * time.Second
			m.mu.Lock()
			if due := m.renewAt.Sub(m.opts.Now()); due < wait {
				wait = max(due, time.Second)
			}
			m.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Sync brings the roots up to date in the Secret, publishes the bundle in
// the ConfigMap and the APIService, and renews the leaves when they are
// due or were signed by another root.
func (m *Manager) Sync(ctx context.Context) error {
	r, err := m.syncRoots(ctx)
	if err != nil {
		return err
	}
	now := m.opts.Now()
	bundle := r.bundle(now)
	if err := m.publishConfigMap(ctx, bundle); err != nil {
		return err
	}
	if err := m.publishAPIService(ctx, bundle); err != nil {
		return err
	}
	return m.renewLeaves(r, now)
}

// syncRoots reads the Secret, advances its roots and writes them back;
// a conflict (another replica wrote first) reads again.
func (m *Manager) syncRoots(ctx context.Context) (roots, error) {
	secrets := m.opts.Client.CoreV1().Secrets(m.opts.Namespace)
	for attempt := 0; ; attempt++ {
		secret, err := secrets.Get(ctx, m.opts.SecretName, metav1.GetOptions{})
		if err != nil {
			return roots{}, fmt.Errorf("read the diagnostics CA Secret %s/%s (the chart creates it): %w", m.opts.Namespace, m.opts.SecretName, err)
		}
		r, perr := parseRoots(secret.Data)
		if perr != nil {
			m.opts.Log.Error(perr, "the diagnostics CA Secret holds no usable root; making a new one (pods injected with the old one lose diagnostics until they restart)",
				"secret", m.opts.SecretName)
		}
		now := m.opts.Now()
		next, changed, err := m.policy.advance(r, now)
		if err != nil {
			return roots{}, fmt.Errorf("make a root: %w", err)
		}
		if !changed {
			return r, nil
		}
		data, err := next.data()
		if err != nil {
			return roots{}, err
		}
		secret.Data = data
		_, err = secrets.Update(ctx, secret, metav1.UpdateOptions{})
		switch {
		case err == nil:
			m.logRoots(r, next)
			return next, nil
		case apierrors.IsConflict(err) && attempt < 3:
			continue
		default:
			return roots{}, fmt.Errorf("write the diagnostics CA Secret %s/%s: %w", m.opts.Namespace, m.opts.SecretName, err)
		}
	}
}

// logRoots says what changed between the roots before and after.
func (m *Manager) logRoots(before, after roots) {
	log := m.opts.Log.WithValues("secret", m.opts.SecretName, "root", fingerprint(after.root.cert), "rootNotAfter", after.root.cert.NotAfter)
	switch {
	case before.root.cert == nil:
		log.Info("diagnostics CA root created")
	case !before.root.cert.Equal(after.root.cert):
		log.Info("diagnostics CA root replaced: the next root signs now", "previous", fingerprint(before.root.cert))
	case after.next.cert != nil && before.next.cert == nil:
		log.Info("next diagnostics CA root published; pods injected from now on trust both", "next", fingerprint(after.next.cert))
	default:
		log.Info("expired previous diagnostics CA root removed from the bundle")
	}
}

// publishConfigMap writes the bundle into the ConfigMap the webhook reads;
// a conflict (another replica wrote first) reads again.
func (m *Manager) publishConfigMap(ctx context.Context, bundle []byte) error {
	cms := m.opts.Client.CoreV1().ConfigMaps(m.opts.Namespace)
	written := false
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, m.opts.ConfigMapName, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("read the diagnostics CA bundle ConfigMap %s/%s (the chart creates it): %w", m.opts.Namespace, m.opts.ConfigMapName, err)
		}
		if cm.Data[config.DiagnosticsCAKey] == string(bundle) {
			return nil
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[config.DiagnosticsCAKey] = string(bundle)
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("write the diagnostics CA bundle ConfigMap %s/%s: %w", m.opts.Namespace, m.opts.ConfigMapName, err)
		}
		written = true
		return nil
	})
	if written {
		m.opts.Log.Info("diagnostics CA bundle published", "configMap", m.opts.ConfigMapName, "roots", bytes.Count(bundle, []byte("BEGIN CERTIFICATE")))
	}
	return err
}

// publishAPIService keeps the APIService's caBundle equal to the bundle.
func (m *Manager) publishAPIService(ctx context.Context, bundle []byte) error {
	svc, err := m.opts.Dynamic.Resource(apiServices).Get(ctx, m.opts.APIService, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read the APIService %s: %w", m.opts.APIService, err)
	}
	current, _, _ := unstructured.NestedString(svc.Object, "spec", "caBundle")
	want := base64.StdEncoding.EncodeToString(bundle)
	if current == want {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"caBundle": want}})
	if err != nil {
		return err
	}
	if _, err := m.opts.Dynamic.Resource(apiServices).Patch(ctx, m.opts.APIService, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("set the caBundle of the APIService %s: %w", m.opts.APIService, err)
	}
	m.opts.Log.Info("APIService caBundle set", "apiService", m.opts.APIService)
	return nil
}

// renewLeaves signs new serving and client certificates when the current
// ones are due or were signed by another root than r's.
func (m *Manager) renewLeaves(r roots, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.serving != nil && m.signer.Equal(r.root.cert) && now.Before(m.renewAt) {
		return nil
	}
	validity := m.opts.CertValidity
	serving, err := r.issue(leafSpec{commonName: m.opts.DNSNames[0], dnsNames: slices.Clone(m.opts.DNSNames), usage: x509.ExtKeyUsageServerAuth}, now, validity)
	if err != nil {
		return fmt.Errorf("sign the serving certificate: %w", err)
	}
	client, err := r.issue(leafSpec{commonName: sidecardiag.DefaultClientName, usage: x509.ExtKeyUsageClientAuth}, now, validity)
	if err != nil {
		return fmt.Errorf("sign the client certificate: %w", err)
	}
	m.serving = tlsCertificate(serving)
	m.client = tlsCertificate(client)
	m.signer = r.root.cert
	// Renew at two thirds of the lifetime, or when the root stops signing
	// (half the overlap before its expiry), whichever comes first.
	m.renewAt = now.Add(validity * 2 / 3)
	if handover := r.root.cert.NotAfter.Add(-m.opts.RootOverlap / 2); handover.Before(m.renewAt) && handover.After(now) {
		m.renewAt = handover
	}
	m.opts.Log.Info("diagnostics certificates signed", "root", fingerprint(r.root.cert), "notAfter", serving.cert.NotAfter)
	return nil
}

// tlsCertificate is a leaf for a tls.Config (the root is left out: the
// peer has it).
func tlsCertificate(leaf keyPair) *tls.Certificate {
	return &tls.Certificate{Certificate: [][]byte{leaf.cert.Raw}, PrivateKey: leaf.key, Leaf: leaf.cert}
}
