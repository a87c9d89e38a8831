package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// SelfTLS configures the self-managed TLS mode: the webhook keeps its own CA
// and serving certificate in a Secret of its namespace, renews them before
// they expire, and keeps the caBundle of its webhook configurations equal to
// that CA. The work is cert-controller's rotator (the one Gatekeeper uses);
// every replica runs it, and the API server's optimistic concurrency (the
// Secret's resourceVersion) lets one write at a time: a replica whose update
// conflicts reads the Secret again and finds it valid. The Secret is mounted
// into the pods as Options.CertDir, whose files the server serves once the
// kubelet has written them.
type SelfTLS struct {
	// SecretName is the Secret in Options.Namespace that holds ca.crt,
	// ca.key, tls.crt and tls.key. It must exist (the chart creates it
	// empty); the rotator fills it.
	SecretName string
	// DNSNames are the serving certificate's names; the first is its
	// common name (the Service's <name>.<namespace>.svc).
	DNSNames []string
	// Webhooks are the webhook configurations whose caBundle is kept in sync.
	Webhooks []ConfigurationRef
	// CAValidity and Validity are the lifetimes of the CA and the serving
	// certificate; RenewBefore is how long before its expiry a certificate
	// (the CA included) is replaced; CheckInterval is how often expiry is
	// checked (a change of the Secret or of a webhook configuration is
	// acted on at once).
	CAValidity, Validity, RenewBefore, CheckInterval time.Duration
}

// ConfigurationRef names a webhook configuration.
type ConfigurationRef struct {
	// Validating is a ValidatingWebhookConfiguration; else a mutating one.
	Validating bool
	// Name is the configuration's name.
	Name string
}

// ParseConfigurationRef parses "mutating/NAME" or "validating/NAME".
func ParseConfigurationRef(s string) (ConfigurationRef, error) {
	kind, name, ok := strings.Cut(s, "/")
	if !ok || name == "" || (kind != "mutating" && kind != "validating") {
		return ConfigurationRef{}, fmt.Errorf("%q is not mutating/NAME or validating/NAME", s)
	}
	return ConfigurationRef{Validating: kind == "validating", Name: name}, nil
}

// String is "mutating/NAME" or "validating/NAME".
func (r ConfigurationRef) String() string {
	if r.Validating {
		return "validating/" + r.Name
	}
	return "mutating/" + r.Name
}

// resource is the configuration's API resource (plural).
func (r ConfigurationRef) resource() string {
	if r.Validating {
		return "validatingwebhookconfigurations"
	}
	return "mutatingwebhookconfigurations"
}

// Validate reports every problem with the settings at once.
func (s *SelfTLS) Validate() error {
	var errs []error
	if s.SecretName == "" {
		errs = append(errs, errors.New("the Secret's name is empty"))
	}
	if len(s.DNSNames) == 0 {
		errs = append(errs, errors.New("the serving certificate has no DNS name"))
	}
	if len(s.Webhooks) == 0 {
		errs = append(errs, errors.New("no webhook configuration to keep the caBundle of"))
	}
	if s.CheckInterval <= 0 {
		errs = append(errs, fmt.Errorf("check interval %s is not positive", s.CheckInterval))
	}
	if s.RenewBefore <= s.CheckInterval {
		errs = append(errs, fmt.Errorf("renew-before %s must be longer than the check interval %s", s.RenewBefore, s.CheckInterval))
	}
	for _, v := range []struct {
		name     string
		validity time.Duration
	}{{"CA validity", s.CAValidity}, {"validity", s.Validity}} {
		if v.validity <= s.RenewBefore {
			errs = append(errs, fmt.Errorf("%s %s must be longer than renew-before %s", v.name, v.validity, s.RenewBefore))
		}
	}
	return errors.Join(errs...)
}

// addSelfTLS adds the rotator to mgr. Its informers watch only the Secret
// and the named webhook configurations (see scopedConfig), so RBAC grants
// it those by name and nothing else.
func addSelfTLS(mgr ctrl.Manager, namespace, certDir string, s *SelfTLS) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("self-managed TLS: %w", err)
	}
	webhooks := make([]rotator.WebhookInfo, 0, len(s.Webhooks))
	for _, w := range s.Webhooks {
		typ := rotator.Mutating
		if w.Validating {
			typ = rotator.Validating
		}
		webhooks = append(webhooks, rotator.WebhookInfo{Name: w.Name, Type: typ})
	}
	err := rotator.AddRotator(scopedManager{Manager: mgr, config: scopedConfig(mgr.GetConfig(), namespace, s)}, &rotator.CertRotator{
		SecretKey:      types.NamespacedName{Namespace: namespace, Name: s.SecretName},
		CertDir:        certDir,
		CAName:         s.SecretName + "-ca",
		CAOrganization: "gopherscope",
		DNSName:        s.DNSNames[0],
		ExtraDNSNames:  s.DNSNames[1:],
		IsReady:        make(chan struct{}),
		Webhooks:       webhooks,
		FieldOwner:     "gopherscope-webhook",
		// Every replica rotates; the Secret's resourceVersion orders them.
		RequireLeaderElection:  false,
		CaCertDuration:         s.CAValidity,
		ServerCertDuration:     s.Validity,
		LookaheadInterval:      s.RenewBefore,
		RotationCheckFrequency: s.CheckInterval,
		ControllerName:         "gopherscope-cert-rotator",
	})
	if err != nil {
		return fmt.Errorf("add the certificate rotator: %w", err)
	}
	return nil
}

// scopedManager is mgr with another REST config: the one the rotator builds
// its cache from.
type scopedManager struct {
	ctrl.Manager
	config *rest.Config
}

// GetConfig returns the scoped config.
func (m scopedManager) GetConfig() *rest.Config { return m.config }

// scopedConfig is base whose list and watch requests for Secrets in
// namespace, and for webhook configurations, select the one object the
// rotator needs by name (fieldSelector=metadata.name=…). The rotator's
// informers list whole collections; so narrowed, they need and get RBAC on
// those names only (the API server authorizes a list or watch with such a
// selector as a request for that name), instead of reading every Secret of
// the namespace and every webhook configuration of the cluster.
func scopedConfig(base *rest.Config, namespace string, s *SelfTLS) *rest.Config {
	names := map[string]string{"/api/v1/namespaces/" + namespace + "/secrets": s.SecretName}
	for _, w := range s.Webhooks {
		names["/apis/admissionregistration.k8s.io/v1/"+w.resource()] = w.Name
	}
	cfg := rest.CopyConfig(base)
	cfg.Wrap(func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			name, ok := names[req.URL.Path]
			if !ok || req.Method != http.MethodGet {
				return next.RoundTrip(req)
			}
			req = req.Clone(req.Context())
			q := req.URL.Query()
			q.Set("fieldSelector", "metadata.name="+name)
			req.URL.RawQuery = q.Encode()
			return next.RoundTrip(req)
		})
	})
	return cfg
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// waitingCerts serves the certificate files of a directory the kubelet fills
// later (the self-managed Secret, empty until the rotator writes it): it
// waits for them, then hands over to controller-runtime's certwatcher.
// Until then GetCertificate fails, and so does the readiness check.
type waitingCerts struct {
	certFile, keyFile string
	poll              time.Duration
	watcher           atomic.Pointer[certwatcher.CertWatcher]
}

// GetCertificate returns the watched certificate, or an error before the
// files exist.
func (w *waitingCerts) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	cw := w.watcher.Load()
	if cw == nil {
		return nil, errors.New("no serving certificate yet: waiting for the self-managed Secret to be mounted")
	}
	return cw.GetCertificate(hello)
}

// NeedLeaderElection is false: every replica serves, so every replica
// waits for its certificate (the manager runs a Runnable without this only
// on the elected replica, which left the others unready for good).
func (*waitingCerts) NeedLeaderElection() bool { return false }

// Start waits for the files, then runs the certwatcher until ctx ends.
func (w *waitingCerts) Start(ctx context.Context) error {
	log := logf.FromContext(ctx)
	tick := time.NewTicker(w.poll)
	defer tick.Stop()
	for {
		cw, err := certwatcher.New(w.certFile, w.keyFile)
		if err == nil {
			w.watcher.Store(cw)
			log.Info("serving the self-managed certificate", "certFile", w.certFile)
			return cw.Start(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
