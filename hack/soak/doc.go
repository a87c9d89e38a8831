// Command soak holds bin/webhook under load over TLS on loopback, against
// the local control plane, in three scenarios of the same length: steady
// load; load while the serving certificate is rotated every few seconds
// (clients reconnect so they see each new certificate); load while the
// config file is rewritten with valid contents (which must take effect:
// the sidecar interval in the patches changes) and invalid ones (which must
// be rejected, the last good config kept). It samples the webhook's RSS
// every second, prints what was held — requests, errors, latency, RSS — and
// exits 1 if any check failed. `make soak` runs it; RELIABILITY.md records
// its figures.
package main
