package rig

import (
	"context"
	"encoding/base64"

	"k8s.io/client-go/rest"

	"github.com/gopherscope/gopherscope/test/localcluster"
)

// servingSecretName names the Secret that tls.mode=secret refers to. No
// Deployment mounts it (the webhook is a local process), so it need not
// exist.
const servingSecretName = "gopherscope-bench-serving"

// Register installs the chart into the control plane, in the webhook's own
// namespace, with its webhook configuration calling this webhook: webhook.url
// is its URL and the caBundle the rig's CA (tls.mode=secret), so the
// certificates RotateCertificate issues keep being trusted. From then on the
// API server calls the webhook for pods created in NamespaceInject, and not
// for those of NamespacePlain, as it would in a cluster.
func (w *Webhook) Register(ctx context.Context) error {
	_, err := w.cluster.InstallChart(ctx, localcluster.ReleaseOptions{
		Namespace: webhookNamespace,
		Values: map[string]any{
			"webhook": map[string]any{"url": w.URL},
			"tls": map[string]any{"mode": "secret", "secret": map[string]any{
				"name": servingSecretName, "caBundle": base64.StdEncoding.EncodeToString(w.CA.PEM),
			}},
		},
	})
	return err
}

// RESTConfig is an admin REST config for the control plane's API server.
func (w *Webhook) RESTConfig() *rest.Config { return w.cluster.Config() }
