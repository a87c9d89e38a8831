package localcluster

import "testing"

// StartForTest starts the local control plane for a test, in a temporary
// directory of the test's, logging to it, and stops it when the test ends.
// It fails the test if the control plane cannot start or stop.
func StartForTest(t testing.TB, repoRoot string) *Cluster {
	t.Helper()
	cluster, err := Start(t.Context(), Options{RepoRoot: repoRoot, WorkDir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	return cluster
}
