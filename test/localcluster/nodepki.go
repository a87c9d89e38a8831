package localcluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/gopherscope/gopherscope/internal/testpki"
)

// nodePKI is the node cluster's certificates, as kubeadm lays them out: one
// CA for the API server, its clients and the kubelet; a front-proxy CA for
// aggregated APIs; a service-account signing key.
type nodePKI struct {
	dir string
	ca  *testpki.CA
}

// apiServerURL is where the node's components and clients reach the API server.
var apiServerURL = "https://" + net.JoinHostPort(NodeIP, "6443")

// nodeClients are the identities that get a certificate and a kubeconfig:
// file name, user and groups, as a real cluster's control plane has them.
var nodeClients = []struct{ name, user, group string }{
	{"admin", "kubernetes-admin", "system:masters"},
	{"kubelet", "system:node:" + NodeName, "system:nodes"},
	{"controller-manager", "system:kube-controller-manager", ""},
	{"scheduler", "system:kube-scheduler", ""},
	{"kube-proxy", "system:kube-proxy", ""},
}

// NodeName is the name the kubelet registers.
const NodeName = "gopherscope-node"

// writeNodePKI issues every certificate and writes them, and a kubeconfig per
// client, under dir.
func writeNodePKI(dir string) (*nodePKI, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create pki dir: %w", err)
	}
	ca, err := testpki.NewCA()
	if err != nil {
		return nil, err
	}
	frontProxyCA, err := testpki.NewCA()
	if err != nil {
		return nil, err
	}
	p := &nodePKI{dir: dir, ca: ca}
	files := map[string][]byte{"ca.crt": ca.PEM, "front-proxy-ca.crt": frontProxyCA.PEM}
	issue := func(name string, issuer *testpki.CA, spec testpki.CertSpec) error {
		c, err := issuer.IssueFor(spec)
		if err != nil {
			return err
		}
		files[name+".crt"], files[name+".key"] = c.CertPEM, c.KeyPEM
		return nil
	}
	nodeAddr := net.ParseIP(NodeIP)
	if err := issue("apiserver", ca, testpki.CertSpec{
		CommonName: "kube-apiserver", Server: true,
		IPs:      []net.IP{nodeAddr, net.ParseIP(APIServiceIP), net.IPv4(127, 0, 0, 1)},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
	}); err != nil {
		return nil, err
	}
	if err := issue("kubelet-serving", ca, testpki.CertSpec{CommonName: NodeName, Server: true, IPs: []net.IP{nodeAddr}, DNSNames: []string{NodeName}}); err != nil {
		return nil, err
	}
	if err := issue("apiserver-kubelet-client", ca, testpki.CertSpec{CommonName: "kube-apiserver-kubelet-client", Organization: []string{"system:masters"}, Client: true}); err != nil {
		return nil, err
	}
	if err := issue("front-proxy-client", frontProxyCA, testpki.CertSpec{CommonName: "front-proxy-client", Client: true}); err != nil {
		return nil, err
	}
	for _, c := range nodeClients {
		spec := testpki.CertSpec{CommonName: c.user, Client: true}
		if c.group != "" {
			spec.Organization = []string{c.group}
		}
		if err := issue(c.name, ca, spec); err != nil {
			return nil, err
		}
	}
	saKey, err := serviceAccountKey()
	if err != nil {
		return nil, err
	}
	files["sa.key"], files["sa.pub"] = saKey.private, saKey.public
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
	}
	for _, c := range nodeClients {
		if err := p.writeKubeconfig(c.name); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// path is the path of a file of the PKI.
func (p *nodePKI) path(name string) string { return filepath.Join(p.dir, name) }

// kubeconfig is the path of client's kubeconfig.
func (p *nodePKI) kubeconfig(client string) string { return p.path(client + ".kubeconfig") }

// writeKubeconfig writes a kubeconfig for client that trusts the CA and
// authenticates with client's certificate.
func (p *nodePKI) writeKubeconfig(client string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: apiServerURL, CertificateAuthority: p.path("ca.crt")}
	cfg.AuthInfos[client] = &clientcmdapi.AuthInfo{ClientCertificate: p.path(client + ".crt"), ClientKey: p.path(client + ".key")}
	cfg.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: client}
	cfg.CurrentContext = "local"
	if err := clientcmd.WriteToFile(*cfg, p.kubeconfig(client)); err != nil {
		return fmt.Errorf("write kubeconfig of %s: %w", client, err)
	}
	return nil
}

type keyPair struct{ private, public []byte }

// serviceAccountKey generates the key the API server signs service account
// tokens with (ES256).
func serviceAccountKey() (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generate service account key: %w", err)
	}
	priv, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return keyPair{}, fmt.Errorf("encode service account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return keyPair{}, fmt.Errorf("encode service account public key: %w", err)
	}
	return keyPair{
		private: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: priv}),
		public:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}, nil
}
