package auditor

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// typicalPodMetadata is the metadata of a Deployment's pod as the API server
// sends it in a metadata-only watch: generated name, the usual labels and
// annotations, one owner, and the managed fields of the controller-manager
// and the kubelet.
const typicalPodMetadata = `{
  "kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
  "metadata": {
    "name": "checkout-7d9f8c6b5-x%05d", "generateName": "checkout-7d9f8c6b5-", "namespace": "shop",
    "uid": "0b6f6a4e-3c1d-4f2a-9b7e-%012d", "resourceVersion": "%d", "creationTimestamp": "2026-11-27T10:00:00Z",
    "labels": {"app.kubernetes.io/name": "checkout", "app.kubernetes.io/instance": "checkout-prod", "pod-template-hash": "7d9f8c6b5"},
    "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-20T09:14:03Z", "prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "checkout-7d9f8c6b5",
      "uid": "5d2c8e1a-7f3b-4c6d-8e9f-0a1b2c3d4e5f", "controller": true, "blockOwnerDeletion": true}],
    "managedFields": [
      {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2026-11-27T10:00:00Z", "fieldsType": "FieldsV1",
       "fieldsV1": {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app.kubernetes.io/name": {}, "f:pod-template-hash": {}},
         "f:ownerReferences": {".": {}, "k:{\"uid\":\"5d2c8e1a-7f3b-4c6d-8e9f-0a1b2c3d4e5f\"}": {}}},
         "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:imagePullPolicy": {}, "f:name": {}, "f:ports": {}, "f:resources": {}}},
           "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {}, "f:schedulerName": {}, "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}},
      {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-11-27T10:00:05Z", "fieldsType": "FieldsV1", "subresource": "status",
       "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}},
         "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": {}, "f:startTime": {}}}}
    ]
  }
}`

// BenchmarkCachedPodFootprint measures the heap that 10,000 cached pods
// hold, per pod: their metadata as sent, and after TrimPodMetadata (what the
// auditor's cache keeps). The informer's own store and index add a map
// entry and a key per pod to either.
func BenchmarkCachedPodFootprint(b *testing.B) {
	const pods = 10000
	for _, trim := range []bool{false, true} {
		b.Run(fmt.Sprintf("trimmed=%v", trim), func(b *testing.B) {
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				kept := make([]any, pods)
				for i := range kept {
					obj := &metav1.PartialObjectMetadata{}
					if err := json.Unmarshal(fmt.Appendf(nil, typicalPodMetadata, i, i, i), obj); err != nil {
						b.Fatal(err)
					}
					kept[i] = obj
					if trim {
						kept[i], _ = TrimPodMetadata(obj)
					}
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/pods, "B/pod")
				runtime.KeepAlive(kept)
			}
		})
	}
}
