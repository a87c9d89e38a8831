// Package cli is the gopherscope command: `inject` runs the injector offline
// over multi-document YAML (for GitOps and CI, like istioctl kube-inject) and
// `version` prints the version. main only hands it the process's arguments
// and streams.
package cli
