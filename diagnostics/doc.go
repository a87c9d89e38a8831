// Package diagnostics is gopherscope's diagnostics API server: the
// aggregated API diagnostics.gopherscope.io/v1alpha1, through which users of
// the Kubernetes API read the profiles, dumps and traces of injected pods,
// as `kubectl get --raw /apis/diagnostics.gopherscope.io/v1alpha1/namespaces/NS/pods/POD/heap`.
//
// Authentication and authorization are the API server's, delegated with
// k8s.io/apiserver: the front proxy's request headers (or a bearer token
// through a TokenReview), then a SubjectAccessReview for the pod's
// subresource (pods/heap in this API group), so RBAC decides who may take
// what in which namespace. The server then reaches the pod's sidecar at the
// pod's address over mutual TLS (package sidecar/diagnostics serves it) and
// streams its answer back.
package diagnostics
