// Command kube-proxy is the upstream Kubernetes service proxy, built from
// k8s.io/kubernetes at the version pinned in this module's go.mod, so that pods
// of the local cluster reach the API server at the kubernetes Service's ClusterIP.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-proxy/app"
)

func main() {
	os.Exit(cli.Run(app.NewProxyCommand()))
}
