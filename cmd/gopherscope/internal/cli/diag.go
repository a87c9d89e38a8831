package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/gopherscope/gopherscope/diagnostics/api"
	"github.com/gopherscope/gopherscope/version"
)

// diagExitCodesHelp is the exit-code paragraph of the diagnostics commands.
const diagExitCodesHelp = `Exit codes:
  0  done (top: also when some pods did not answer; their rows say why)
  2  a usage error, or the API server or the pod refused or failed; the
     message says which and what to do (nothing is left as FILE)
`

// The ClusterRoles the chart ships for the diagnostics API (release
// "gopherscope"), named in the hints of a 403.
const (
	statsClusterRole    = "gopherscope-diagnostics-stats"
	profilesClusterRole = "gopherscope-diagnostics-profiles"
)

// kubeFlags declares kubectl's connection flags (--kubeconfig, --context,
// -n, --as, ...) on fs.
func kubeFlags(fs *pflag.FlagSet) *genericclioptions.ConfigFlags {
	flags := genericclioptions.NewConfigFlags(true)
	flags.AddFlags(fs)
	return flags
}

// diagClient reads the diagnostics API through the API server.
type diagClient struct {
	// pods lists pods.
	pods kubernetes.Interface
	// raw sends the diagnostics API's GETs.
	raw rest.Interface
	// namespace is the kubeconfig's or -n's namespace.
	namespace string
}

// newDiagClient connects as the kubeconfig and kubectl's flags say.
func newDiagClient(flags *genericclioptions.ConfigFlags) (*diagClient, error) {
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		return nil, usageError{fmt.Errorf("kubeconfig: %w", err)}
	}
	namespace, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, usageError{fmt.Errorf("kubeconfig namespace: %w", err)}
	}
	cfg.UserAgent = "gopherscope-cli/" + version.Version
	// top asks every pod at once; client-go's default (5/s) would make
	// 100 pods take 20 s. The API server's priority and fairness still
	// applies.
	cfg.QPS, cfg.Burst = 100, 200
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return &diagClient{pods: client, raw: client.CoreV1().RESTClient(), namespace: namespace}, nil
}

// get is a GET of the pod's resource. It is never retried: a refusal (a
// rate limit, a profile already running) is for the user to see.
func (c *diagClient) get(namespace, pod, resource string, query url.Values) *rest.Request {
	return c.raw.Get().RequestURI(api.PodPath(namespace, pod, resource, query)).MaxRetries(0)
}

// stream GETs the pod's resource and returns its body.
func (c *diagClient) stream(ctx context.Context, namespace, pod, resource string, query url.Values) (io.ReadCloser, error) {
	body, err := c.get(namespace, pod, resource, query).Stream(ctx)
	if err != nil {
		return nil, explain(err, namespace, pod, resource)
	}
	return body, nil
}

// explain adds to an API error which pod it is about, unless it says so
// already, and what the user can do about it.
func explain(err error, namespace, pod, resource string) error {
	if name := namespace + "/" + pod; !strings.Contains(err.Error(), name) {
		err = fmt.Errorf("%s: %w", name, err)
	}
	role := profilesClusterRole
	if resource == api.Stats || resource == api.History {
		role = statsClusterRole
	}
	switch {
	case apiMissing(err):
		return fmt.Errorf("%w: the diagnostics API is not installed (see `kubectl get apiservice %s` and the chart's diagnostics.enabled)", err, api.APIService)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w (ask for a RoleBinding of the ClusterRole %s in namespace %s)", err, role, namespace)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%w (`gopherscope check -n %s %s` says whether it is injected)", err, namespace, pod)
	case apierrors.IsTooManyRequests(err):
		return fmt.Errorf("%w (the pod's dumps are rate-limited: try again in a few seconds)", err)
	case apierrors.IsConflict(err):
		return fmt.Errorf("%w (one CPU profile or trace at a time per pod: wait for the other one to end)", err)
	}
	return err
}

// apiMissing says whether err is the API server's own 404 for a group it
// does not serve (no APIService), not the diagnostics API's 404 for a pod,
// which names the pod.
func apiMissing(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) || !apierrors.IsNotFound(err) {
		return false
	}
	details := status.Status().Details
	return details == nil || details.Name == ""
}
