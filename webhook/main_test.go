package webhook

import (
	"os"
	"testing"

	"github.com/go-logr/logr"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

func TestMain(m *testing.M) {
	// controller-runtime's own logs (admission.Webhook's) go nowhere in
	// tests; tests that check logs pass their logger in the context.
	logf.SetLogger(logr.Discard())
	os.Exit(m.Run())
}
