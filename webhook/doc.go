// Package webhook is gopherscope's admission adapter around the pure
// injector: the controller-runtime admission.Handler for pod CREATE requests
// (PodInjector), the validating handler that gives whoever applies a workload
// the warnings its pods would get (WorkloadValidator), the namespace lookup
// and config provider they read (with the diagnostics CA bundle that
// DiagnosticsCAReader keeps in it), their metrics, and the server (Run) with
// its TLS, /metrics, /healthz and /readyz.
//
// Its invariant: every patch is jsonpatch's diff of the pod before and after
// the injector, made to apply to the object as it was sent; the workload
// validator never mutates; and neither denies for a reason of its own: only
// strict mode does.
package webhook
