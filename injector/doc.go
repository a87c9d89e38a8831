// Package injector is gopherscope's pure mutation logic: a pod, what is known
// of its namespace and a config.Config in; the pod with the sidecar, the
// warnings for the user and the decision out. It does no I/O: the admission
// webhook and the offline CLI are adapters around it.
package injector
