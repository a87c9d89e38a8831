// Command kubectl is the upstream Kubernetes CLI, built from k8s.io/kubectl at
// the version pinned in this module's go.mod (the machine's own kubectl may be
// outside the supported version skew of the local cluster).
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
