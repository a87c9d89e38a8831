// Package names holds the sidecar's flag names, served paths and defaults as
// dependency-free constants. The sidecar binary imports this package instead
// of config (whose types pull in k8s.io/api), so it stays small; config
// re-exports every name declared here under the same identifier, so the
// injector and the sidecar always agree.
package names
