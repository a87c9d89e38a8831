// Package webhook is gopherscope's admission adapter around the pure
// injector: a controller-runtime admission.Handler for pod CREATE requests
// (PodInjector), the lookup of namespace labels it needs, the config provider
// that hot reload swaps, the injections metric, and the server wiring (Run):
// a controller-runtime manager with the HTTPS webhook server on /inject,
// certificate rotation from files, /metrics, /healthz and /readyz.
package webhook
