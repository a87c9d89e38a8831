package diagnostics

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/client-go/kubernetes"
)

// FrontProxy is how the API server's front proxy names users to an
// aggregated API: a client certificate signed by CA, with one of the
// allowed names as its common name, and the user in request headers.
type FrontProxy struct {
	CA      dynamiccertificates.CAContentProvider
	Headers headerrequest.RequestHeaderAuthRequestProvider
}

// The ConfigMap in which kube-apiserver publishes its front proxy's
// configuration for aggregated API servers, and its keys.
const (
	authenticationConfigMapNamespace = "kube-system"
	authenticationConfigMapName      = "extension-apiserver-authentication"
)

// FrontProxyFromCluster follows the front proxy's configuration in
// kube-system's extension-apiserver-authentication ConfigMap, as every
// aggregated API server does (the server's service account needs the
// extension-apiserver-authentication-reader Role there). It reads it once
// now, failing if the API server publishes none, and run keeps it current
// until ctx ends.
func FrontProxyFromCluster(ctx context.Context, client kubernetes.Interface) (fp FrontProxy, run func(context.Context), err error) {
	// The controllers below read through informers that are not started
	// yet, so their first read finds nothing either way: ask once
	// directly, as k8s.io/apiserver's own delegating options do, to tell
	// an API server without an aggregation layer from a slow start.
	cm, err := client.CoreV1().ConfigMaps(authenticationConfigMapNamespace).Get(ctx, authenticationConfigMapName, metav1.GetOptions{})
	if err != nil {
		return FrontProxy{}, nil, fmt.Errorf("read %s/%s (is the API server's aggregation layer configured?): %w",
			authenticationConfigMapNamespace, authenticationConfigMapName, err)
	}
	if cm.Data["requestheader-client-ca-file"] == "" {
		return FrontProxy{}, nil, fmt.Errorf("%s/%s has no requestheader-client-ca-file: the API server's aggregation layer is not configured",
			authenticationConfigMapNamespace, authenticationConfigMapName)
	}
	ca, err := dynamiccertificates.NewDynamicCAFromConfigMapController("front-proxy-ca", authenticationConfigMapNamespace,
		authenticationConfigMapName, "requestheader-client-ca-file", client)
	if err != nil {
		return FrontProxy{}, nil, fmt.Errorf("front proxy CA: %w", err)
	}
	headers := headerrequest.NewRequestHeaderAuthRequestController(authenticationConfigMapName, authenticationConfigMapNamespace, client,
		"requestheader-username-headers", "requestheader-uid-headers", "requestheader-group-headers",
		"requestheader-extra-headers-prefix", "requestheader-allowed-names")
	if err := errors.Join(ca.RunOnce(ctx), headers.RunOnce(ctx)); err != nil {
		return FrontProxy{}, nil, fmt.Errorf("read %s/%s (is the API server's aggregation layer configured?): %w",
			authenticationConfigMapNamespace, authenticationConfigMapName, err)
	}
	run = func(ctx context.Context) {
		go ca.Run(ctx, 1)
		headers.Run(ctx, 1)
	}
	return FrontProxy{CA: ca, Headers: headers}, run, nil
}

// cacheTTL is how long an authentication or an allowed decision is reused;
// a denial is asked again sooner.
const (
	cacheTTL     = 10 * time.Second
	denyCacheTTL = 5 * time.Second
)

// DelegatedAuth returns the authenticator and authorizer that delegate to
// the API server behind client, built by k8s.io/apiserver as every
// aggregated API server builds them: the front proxy's request headers or
// a bearer token (TokenReview) name the user, and a SubjectAccessReview
// decides each request.
func DelegatedAuth(client kubernetes.Interface, fp FrontProxy) (authenticator.Request, authorizer.Authorizer, error) {
	if fp.CA == nil || fp.Headers == nil {
		return nil, nil, errors.New("delegated authentication: the front proxy's CA and headers are required")
	}
	backoff := &wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}
	authn, _, err := authenticatorfactory.DelegatingAuthenticatorConfig{
		TokenAccessReviewClient:  client.AuthenticationV1(),
		TokenAccessReviewTimeout: 10 * time.Second,
		WebhookRetryBackoff:      backoff,
		CacheTTL:                 cacheTTL,
		RequestHeaderConfig: &authenticatorfactory.RequestHeaderConfig{
			UsernameHeaders:     headerrequest.StringSliceProviderFunc(fp.Headers.UsernameHeaders),
			UIDHeaders:          headerrequest.StringSliceProviderFunc(fp.Headers.UIDHeaders),
			GroupHeaders:        headerrequest.StringSliceProviderFunc(fp.Headers.GroupHeaders),
			ExtraHeaderPrefixes: headerrequest.StringSliceProviderFunc(fp.Headers.ExtraHeaderPrefixes),
			AllowedClientNames:  headerrequest.StringSliceProviderFunc(fp.Headers.AllowedClientNames),
			CAContentProvider:   fp.CA,
		},
	}.New()
	if err != nil {
		return nil, nil, fmt.Errorf("delegated authentication: %w", err)
	}
	authz, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: client.AuthorizationV1(),
		AllowCacheTTL:             cacheTTL,
		DenyCacheTTL:              denyCacheTTL,
		WebhookRetryBackoff:       backoff,
	}.New()
	if err != nil {
		return nil, nil, fmt.Errorf("delegated authorization: %w", err)
	}
	return authn, authz, nil
}

// StaticHeaders is a fixed front proxy header configuration, with
// kube-apiserver's default header names.
type StaticHeaders struct {
	// AllowedNames are the common names the front proxy's certificate may
	// have; empty allows any the CA signed.
	AllowedNames []string
}

// UsernameHeaders is X-Remote-User.
func (StaticHeaders) UsernameHeaders() []string { return []string{"X-Remote-User"} }

// UIDHeaders is X-Remote-Uid.
func (StaticHeaders) UIDHeaders() []string { return []string{"X-Remote-Uid"} }

// GroupHeaders is X-Remote-Group.
func (StaticHeaders) GroupHeaders() []string { return []string{"X-Remote-Group"} }

// ExtraHeaderPrefixes is X-Remote-Extra-.
func (StaticHeaders) ExtraHeaderPrefixes() []string { return []string{"X-Remote-Extra-"} }

// AllowedClientNames returns AllowedNames.
func (s StaticHeaders) AllowedClientNames() []string { return s.AllowedNames }
