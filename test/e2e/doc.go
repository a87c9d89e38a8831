// Package e2e holds gopherscope's end-to-end tests (build tag e2e, run by
// `make e2e` and `make test`): each starts the embedded local control plane
// (bin/kube-apiserver and bin/etcd through envtest), installs the Helm chart
// into it with bin/helm in tls.mode=helm, runs freshly built webhook, sidecar
// and demo-app binaries as local processes, and checks what the API server
// stores and serves.
//
// The chart's cert-manager mode needs cert-manager's controllers, which the
// local control plane does not run; it is verified by rendering instead, in
// test/chart (TestCertManagerMode decodes the Issuers and Certificates into
// cert-manager's Go types and checks the webhook configuration's
// cert-manager.io/inject-ca-from annotation).
package e2e
