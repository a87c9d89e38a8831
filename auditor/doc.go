// Package auditor finds pods that should carry the gopherscope sidecar and do
// not, and reports them. With failurePolicy Ignore a down webhook never blocks
// the cluster, so pods created while it was down start without the sidecar;
// pods created before their namespace was labelled are in the same state.
// The auditor is a controller-runtime reconciler on pods that runs in the
// webhook binary (flag --auditor), on one replica at a time (leader election).
//
// A pod is uninjected when the injector, given the stored pod, its
// namespace's labels and the current configuration, decides to inject it:
// the same rules as admission (injector.Inject), so the two never disagree.
// Terminating pods, finished pods (Succeeded, Failed) and mirror pods are
// ignored. The auditor cannot tell a pod created while the webhook was down
// from one created before its namespace opted in: both are reported, since
// both lack the sidecar the rules now ask for, and both are fixed the same way.
//
// Reports:
//   - the gauge gopherscope_uninjected_pods{namespace}, recomputed on every
//     change; a namespace that drops to zero loses its series;
//   - a Warning Event, reason SidecarMissing, on the pod's owner (Pod →
//     ReplicaSet → Deployment, Job → CronJob, StatefulSet, DaemonSet, or the
//     pod itself), at most once per owner per Settings.Period;
//   - optionally (Settings.RolloutRestart, off by default) the eviction of
//     the pod through the Eviction API (PodDisruptionBudgets apply), so that
//     its Deployment, ReplicaSet, StatefulSet or DaemonSet re-creates it with
//     the sidecar: at most one pod per owner per Settings.RestartCooldown,
//     only in namespaces where a RoleBinding grants it pods/eviction, and
//     only while the webhook is ready and reachable. Workloads are never
//     modified.
//
// An uninjected pod created while the webhook had been ready for a while
// shows that the API server cannot reach it (a wrong caBundle, a
// NetworkPolicy): it gets a WebhookUnreachable Warning instead,
// gopherscope_webhook_unreachable is 1, and no pod is evicted until no such
// pod is left. Until a pod created during the current ready stretch is seen
// injected, a single pod is evicted as a probe, so a broken caBundle costs
// one eviction, not one per workload per cool-down.
//
// Memory: the pods are watched cluster-wide as metadata only (no spec, no
// status on the wire or in memory), trimmed by a cache transform to the
// handful of keys that select candidates (see TrimPodMetadata): about 600
// bytes per pod against 2.8 KB untrimmed (BenchmarkCachedPodFootprint), some
// 6 MB for 10,000 pods, on the elected replica only. Only candidates (opted
// in, no gopherscope.io/status annotation, not terminating) are read in full,
// from the API server, uncached. A label selector cannot narrow the watch:
// most opted-in pods are selected by their namespace's label, not their own.
// A watch per opted-in namespace would keep nothing of other namespaces, but
// namespaces opt in and out at any time and a pod label opts a pod in
// anywhere, so a cluster-wide watch would be needed as well; the trimmed
// metadata cache is simpler and small enough.
//
// The namespaces' labels come from the cache the webhook already keeps for
// admission (namespace metadata), so the auditor adds no watch of its own
// there. Only the elected replica runs the auditor and reports the gauge;
// Prometheus sees one series per namespace across the replicas. As with every
// controller-runtime manager, a replica that loses the Lease (the API server
// unreachable for longer than the 10 s renew deadline) exits and is restarted
// by the kubelet; the other replicas go on serving admission meanwhile.
package auditor
