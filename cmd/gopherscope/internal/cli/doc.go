// Package cli is the gopherscope command. Each subcommand is one entry of
// commands(): `inject` runs the injector offline over manifests (for GitOps
// and CI, like istioctl kube-inject), `check` says why pods are injected or
// not, `top`, `profile`, `goroutines` and `trace` read injected pods through
// the diagnostics API, `version` prints the version. main only hands it the
// program's name (kubectl-gopherscope makes it a kubectl plugin), arguments
// and streams; the exit codes are the same for every command.
package cli
