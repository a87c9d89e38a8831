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
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
)

// RunOptions configure Run.
type RunOptions struct {
	// ListenAddress is where the API is served (the APIService's Service
	// targets it).
	ListenAddress string
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
	serving, err := certwatcher.New(opts.CertFile, opts.KeyFile)
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	clientCert, err := certwatcher.New(opts.ClientCertFile, opts.ClientKeyFile)
	if err != nil {
		return fmt.Errorf("client certificate for sidecars: %w", err)
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
	for _, w := range []*certwatcher.CertWatcher{serving, clientCert} {
		wg.Go(func() {
			if err := w.Start(ctx); err != nil {
				log.Error(err, "certificate watcher stopped")
			}
		})
	}

	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) }
	mux.HandleFunc("/healthz", ok)
	mux.HandleFunc("/readyz", ok)
	mux.Handle("/", New(Options{
		Authenticator: authn, Authorizer: authz, Pods: client.CoreV1(), Log: log,
		ClientCertificate: func() (*tls.Certificate, error) { return clientCert.GetCertificate(nil) },
	}))
	srv := &http.Server{
		Handler: mux,
		TLSConfig: &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: serving.GetCertificate,
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
