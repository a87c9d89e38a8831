// Package webhook is gopherscope's admission adapter around the pure
// injector: the controller-runtime admission.Handler for pod CREATE requests
// (PodInjector), the namespace lookup and config provider it reads, the
// injections metric, and the server (Run) with its TLS, /metrics, /healthz
// and /readyz.
//
// Its invariant: every patch is jsonpatch's diff of the pod before and after
// the injector, made to apply to the object as it was sent, and the handler
// never denies a pod for a reason of its own: only strict mode does.
package webhook
