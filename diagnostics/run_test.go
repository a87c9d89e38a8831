package diagnostics

import (
	"strings"
	"testing"

	"github.com/go-logr/logr"

	"github.com/gopherscope/gopherscope/test/chart"
	"github.com/gopherscope/gopherscope/test/localcluster"
)

// TestRunNeedsTheAggregationLayer: an API server without a front proxy
// (the local control plane has none; the real node has) cannot delegate
// authentication to an aggregated API, and Run says so instead of serving
// requests it could not attribute to anyone.
func TestRunNeedsTheAggregationLayer(t *testing.T) {
	root, err := chart.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cluster := localcluster.StartForTest(t, root)
	err = Run(t.Context(), RunOptions{ListenAddress: "127.0.0.1:0", RestConfig: cluster.Config()}, logr.Discard())
	t.Logf("Run() = %v", err)
	if err == nil || !strings.Contains(err.Error(), "aggregation layer") {
		t.Errorf("Run() = %v; want an error naming the aggregation layer", err)
	}
}
