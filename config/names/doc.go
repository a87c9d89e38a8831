// Package names holds the sidecar's command-line flags, the paths it serves
// and their defaults, as constants without dependencies: the injector writes
// these flags and the sidecar defines them, so both import this package
// (as sidecarconf) and always agree, and the sidecar binary links no
// Kubernetes code.
package names
