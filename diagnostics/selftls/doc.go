// Package selftls keeps the diagnostics server's CA without cert-manager:
// long-lived roots in a Secret of the release namespace, their public bundle
// in a ConfigMap (which the webhook writes into every injected pod, for the
// sidecar to verify the server's client certificate) and in the
// APIService's caBundle (for the API server to verify the server's serving
// certificate), and short-lived serving and client certificates signed in
// memory and renewed without a restart.
//
// A root is replaced without breaking running pods: RootOverlap before it
// expires the next root is published beside it, so pods injected from then
// on trust both; at half the overlap the next root starts signing. Only a
// pod older than that half (it trusts the old root alone) loses its
// diagnostics port's trust, and would have at the old root's expiry anyway.
package selftls
