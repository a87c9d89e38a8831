package webhook

import (
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// With more than one replica the auditor is elected; the webhook server
// runs on every replica, and so must what gives it its certificate. A
// Runnable that does not say otherwise runs only on the elected replica.
func TestEveryReplicaWaitsForItsSelfManagedCertificate(t *testing.T) {
	var certs any = &waitingCerts{}
	r, ok := certs.(manager.LeaderElectionRunnable)
	if !ok || r.NeedLeaderElection() {
		t.Error("waitingCerts runs only on the elected replica: the others never load their certificate and stay unready")
	}
}
