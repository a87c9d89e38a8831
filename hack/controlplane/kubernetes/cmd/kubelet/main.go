// Command kubelet is the upstream Kubernetes node agent, built from
// k8s.io/kubernetes at the version pinned in this module's go.mod, so that the
// local cluster runs a real node without downloading binaries.
package main

import (
	"context"
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	os.Exit(cli.Run(app.NewKubeletCommand(context.Background())))
}
