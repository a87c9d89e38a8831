// Package localcluster runs gopherscope on the embedded local control plane:
// kube-apiserver and etcd built from their Go modules into bin/ (make
// controlplane) and started through controller-runtime's envtest, the Helm
// chart installed into that API server with bin/helm, and the webhook and
// sidecar binaries run as local processes. The end-to-end tests and `make
// demo` share it; it is test support, not part of the product.
package localcluster
