package diagnostics

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"

	"github.com/gopherscope/gopherscope/diagnostics/selftls"
)

// RunOptions configure Run.
type RunOptions struct {
	// ListenAddress is where the API is served (the APIService's Service
	// targets it).
	ListenAddress string
	// SelfTLS, when set, keeps the diagnostics CA in the cluster and signs
	// both certificates in memory (package selftls); its Client, Dynamic
	// and Log are filled in by Run. Otherwise the certificates come from
	// files:
	SelfTLS *selftls.Options
	// CertFile and KeyFile are the serving certificate; ClientCertFile and
	// ClientKeyFile the certificate shown to sidecars. Both are watched
	// and used renewed without a restart.
	CertFile, KeyFile             string
	ClientCertFile, ClientKeyFile string
	// RestConfig reaches the API server the server delegates to.
	RestConfig *rest.Config
}

// Run serves the API until ctx ends: the front proxy's configuration is
// read from the cluster, authentication and authorization are delegated
// to the API server, and /healthz and /readyz answer the kubelet's probes.
func Run(ctx context.Context, opts RunOptions, log logr.Logger) error {
	client, err := kubernetes.NewForConfig(opts.RestConfig)
	if err != nil {
		return fmt.Errorf("API client: %w", err)
	}
	fp, followFrontProxy, err := FrontProxyFromCluster(ctx, client)
	if err != nil {
		return err
	}
	authn, authz, err := DelegatedAuth(client, fp)
	if err != nil {
		return err
	}
	certs, err := newCertificates(opts, log)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %q: %w", opts.ListenAddress, err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { followFrontProxy(ctx) })
	wg.Go(func() { certs.run(ctx) })
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) }
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !certs.ready() {
			http.Error(w, "no certificates yet", http.StatusServiceUnavailable)
			return
		}
		if fp.CA.CurrentCABundleContent() == nil {
			http.Error(w, "the front proxy's CA is not read yet", http.StatusServiceUnavailable)
			return
		}
		ok(w, r)
	})
	mux.Handle("/", New(Options{
		Authenticator: authn, Authorizer: authz, Pods: client.CoreV1(), Log: log,
		ClientCertificate: certs.client,
	}))
	srv := &http.Server{
		Handler: mux,
		TLSConfig: &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: certs.serving,
			// The front proxy's certificate, which the request-header
			// authenticator verifies; other clients need none.
			ClientAuth: tls.RequestClientCert,
		},
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      sidecarTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Info("diagnostics API serving", "address", ln.Addr().String(), "group", Group+"/"+Version)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tls.NewListener(ln, srv.TLSConfig)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// certificates are the server's two certificates, from files or kept by
// selftls.
type certificates struct {
	serving func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	client  func() (*tls.Certificate, error)
	ready   func() bool
	run     func(ctx context.Context)
}

// selfTLSInterval is how often the diagnostics CA's objects are checked
// besides the certificates' own renewals: a caBundle someone reset is
// restored within it.
const selfTLSInterval = 5 * time.Minute

func newCertificates(opts RunOptions, log logr.Logger) (*certificates, error) {
	if opts.SelfTLS != nil {
		so := *opts.SelfTLS
		var err error
		if so.Client, err = kubernetes.NewForConfig(opts.RestConfig); err != nil {
			return nil, fmt.Errorf("API client: %w", err)
		}
		if so.Dynamic, err = dynamic.NewForConfig(opts.RestConfig); err != nil {
			return nil, fmt.Errorf("API client: %w", err)
		}
		so.Log = log.WithName("selftls")
		m, err := selftls.New(so)
		if err != nil {
			return nil, fmt.Errorf("self-managed TLS: %w", err)
		}
		return &certificates{
			serving: m.ServingCertificate, client: m.ClientCertificate, ready: m.Ready,
			run: func(ctx context.Context) { m.Run(ctx, selfTLSInterval) },
		}, nil
	}
	serving, err := certwatcher.New(opts.CertFile, opts.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	clientCert, err := certwatcher.New(opts.ClientCertFile, opts.ClientKeyFile)
	if err != nil {
		return nil, fmt.Errorf("client certificate for sidecars: %w", err)
	}
	return &certificates{
		serving: serving.GetCertificate,
		client:  func() (*tls.Certificate, error) { return clientCert.GetCertificate(nil) },
		ready:   func() bool { return true },
		run: func(ctx context.Context) {
			var wg sync.WaitGroup
			for _, w := range []*certwatcher.CertWatcher{serving, clientCert} {
				wg.Go(func() {
					if err := w.Start(ctx); err != nil {
						log.Error(err, "certificate watcher stopped")
					}
				})
			}
			wg.Wait()
		},
	}, nil
}
