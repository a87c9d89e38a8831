package cli

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gopherscope/gopherscope/diagnostics/api"
)

// diagRequest is one request for a pod's diagnostics resource.
type diagRequest struct {
	namespace, pod, resource string
	query                    url.Values
	// user is the user the request impersonates (--as), if any.
	user string
}

// fakeAggregator plays the API server with the diagnostics API aggregated:
// an HTTPS server (HTTP/2, as the API server) that serves the API's pod
// paths with serve and passes every other request to a real API server
// (when started with one), so that pods are listed for real.
type fakeAggregator struct {
	srv        *httptest.Server
	kubeconfig string
	serve      func(w http.ResponseWriter, r *http.Request, req diagRequest)
	// requests counts the diagnostics requests.
	requests atomic.Int64
}

// startAggregator starts the server; with apiServer non-nil, requests
// outside the diagnostics API go to it, with its credentials.
func startAggregator(t *testing.T, apiServer *rest.Config, serve func(http.ResponseWriter, *http.Request, diagRequest)) *fakeAggregator {
	t.Helper()
	a := &fakeAggregator{serve: serve}
	proxy := http.NotFoundHandler()
	if apiServer != nil {
		target, err := url.Parse(apiServer.Host)
		if err != nil {
			t.Fatal(err)
		}
		transport, err := rest.TransportFor(apiServer)
		if err != nil {
			t.Fatal(err)
		}
		proxy = &httputil.ReverseProxy{Transport: transport, Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Del("Authorization") // the transport authenticates as the admin
		}}
	}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tail, ok := strings.CutPrefix(r.URL.Path, api.VersionPath+"/namespaces/")
		if !ok {
			proxy.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer test-token" {
			writeTestStatus(w, apierrors.NewUnauthorized("the kubeconfig's token did not arrive"))
			return
		}
		parts := strings.Split(tail, "/")
		if len(parts) != 4 || parts[1] != "pods" {
			writeTestStatus(w, apierrors.NewNotFound(schema.GroupResource{Group: api.Group, Resource: "pods"}, tail))
			return
		}
		a.requests.Add(1)
		a.serve(w, r, diagRequest{namespace: parts[0], pod: parts[2], resource: parts[3],
			query: r.URL.Query(), user: r.Header.Get("Impersonate-User")})
	}))
	a.srv.EnableHTTP2 = true
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	a.kubeconfig = writeKubeconfig(t, a.srv)
	return a
}

// writeKubeconfig writes a kubeconfig for srv, with namespace default and
// the token test-token.
func writeKubeconfig(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: srv.URL, CertificateAuthorityData: ca}
	cfg.AuthInfos["test"] = &clientcmdapi.AuthInfo{Token: "test-token"}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "test", Namespace: "default"}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeTestStatus answers as the API server answers an error.
func writeTestStatus(w http.ResponseWriter, status apierrors.APIStatus) {
	st := status.Status()
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(st.Code))
	_ = json.NewEncoder(w).Encode(st)
}

// writeJSON answers v as JSON.
func writeJSON(t *testing.T, w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		t.Error(err)
	}
}

// busyTestSpin burns CPU, so that a CPU profile of the test names it.
//
//go:noinline
func busyTestSpin(until time.Time) uint64 {
	var x uint64 = 1
	for time.Now().Before(until) {
		for i := range 100_000 {
			x = x*6364136223846793005 + uint64(i)
		}
	}
	return x
}

// cpuProfile is a real CPU profile of this test process while busyTestSpin
// runs, taken once.
var cpuProfile = sync.OnceValues(func() ([]byte, error) {
	var b bytes.Buffer
	if err := pprof.StartCPUProfile(&b); err != nil {
		return nil, err
	}
	busyTestSpin(time.Now().Add(500 * time.Millisecond))
	pprof.StopCPUProfile()
	return b.Bytes(), nil
})

// realProfile is the named runtime profile of this process (heap,
// goroutine, ...) in pprof's format (debug 0) or as text.
func realProfile(t *testing.T, name string, debug int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup(name).WriteTo(&b, debug); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// realTrace is a short execution trace of this process.
func realTrace(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := trace.Start(&b); err != nil {
		t.Fatal(err)
	}
	busyTestSpin(time.Now().Add(20 * time.Millisecond))
	trace.Stop()
	return b.Bytes()
}

// filesIn lists the names of the files in dir.
func filesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
