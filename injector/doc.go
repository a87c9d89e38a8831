// Package injector is gopherscope's pure mutation logic: a pod, what is known
// of its namespace and a config.Config in; the pod with the sidecar, the
// warnings for the user and the decision out. It does no I/O: the admission
// webhook and the offline CLI are adapters around it.
//
// Inject applies, in order:
//   - the exclusions: gopherscope's own pods (config.LabelComponent) and
//     excluded namespaces (the Namespace's name, else the pod's own
//     metadata.namespace) are never injected;
//   - the opt-in table of DESIGN.md: pod opt-out (annotation "false" or
//     label "disabled") > namespace "disabled" > pod "enabled" > namespace
//     "enabled"; an Offline namespace counts as enabled;
//   - the injection marks: the status annotation together with a container
//     named like the sidecar means already injected. A sidecar-named
//     container without the annotation is also left alone (with a warning):
//     adding a second would make the pod invalid and replacing it would
//     remove what the user wrote. The annotation without the container is
//     injected again;
//   - hostNetwork (skipped unless the config allows it) and pods with no
//     container;
//   - the per-pod annotations, each validated on its own: an invalid value
//     is replaced by its default with a warning, or, in strict mode, the
//     pod is denied with every problem listed.
//
// The result only appends (the sidecar, to initContainers as a native
// sidecar or to containers) and sets annotations that are absent (the
// status is rewritten on re-injection); it is deterministic, and injecting
// it again changes nothing.
package injector
