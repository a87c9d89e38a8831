package webhook

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/gopherscope/gopherscope/config"
)

// versionTimeout bounds the wait for the API server's version at start.
const versionTimeout = 30 * time.Second

// serverMinorVersion asks the API server for its version and returns its
// Kubernetes 1.x minor number (a later major counts as the largest minor).
// It retries for a while: the webhook often starts with the control plane.
// A version that is not a release (an unstamped development build reports
// v0.0.0-master) counts as current: native sidecars whatever the kubelets,
// as the CLI assumes.
func serverMinorVersion(ctx context.Context, restConfig *rest.Config) (int, error) {
	client, err := discovery.NewDiscoveryClientForConfig(restConfig)
	if err != nil {
		return 0, fmt.Errorf("create a discovery client: %w", err)
	}
	var gitVersion string
	var lastErr error
	err = wait.PollUntilContextTimeout(ctx, time.Second, versionTimeout, true, func(context.Context) (bool, error) {
		info, err := client.ServerVersion()
		if err != nil {
			lastErr = err
			return false, nil
		}
		gitVersion = info.GitVersion
		return true, nil
	})
	if err != nil {
		if lastErr != nil {
			err = lastErr
		}
		return 0, fmt.Errorf("get the API server's version: %w", err)
	}
	minor, err := config.ParseKubeMinor(gitVersion)
	if err != nil {
		logf.FromContext(ctx).Info("the API server's version is not a release; assuming it supports native sidecars",
			"gitVersion", gitVersion, "reason", err.Error())
		return config.NativeSidecarSkewFreeMinor, nil
	}
	return minor, nil
}
