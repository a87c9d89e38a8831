package diagnostics

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// RestConfig finds the API server as client-go's loading rules say:
// $KUBECONFIG, ~/.kube/config, or in a pod its service account. Without a
// QPS of its own the client is not rate limited on our side (QPS -1): the
// server asks the API server once per diagnostics request (the pod, and a
// SubjectAccessReview), `top` over 100 pods is 200 requests at once, and
// the API server's priority and fairness is what should pace them.
// (controller-runtime's GetConfig does the same; its root package is not
// linked into cmd/diagnostics, as its initializers alone add 3 MiB of resident memory.)
func RestConfig() (*rest.Config, error) {
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(),
		&clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("find the API server: %w", err)
	}
	if cfg.QPS == 0 {
		cfg.QPS = -1
	}
	return cfg, nil
}
