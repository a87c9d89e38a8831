// Package injector is gopherscope's pure mutation logic: a pod, what is known
// of its namespace and a config.Config in; the pod with the sidecar, the
// warnings for the user and the decision out. It does no I/O: the admission
// webhook and the offline CLI are adapters around it.
//
// Its invariant: injection only appends (the sidecar, to initContainers as a
// native sidecar or to containers) and sets what is absent: annotations (the
// status is rewritten on re-injection) and the pod-level requests that the
// pod-level limits imply; it is deterministic, and injecting its result
// again changes nothing.
package injector
