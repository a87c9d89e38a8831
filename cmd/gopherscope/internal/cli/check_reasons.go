package cli

import (
	"fmt"

	"github.com/gopherscope/gopherscope/config"
	"github.com/gopherscope/gopherscope/injector"
)

// The reasons check gives beyond the injector's own (injector.Reason): why
// a pod the injector would inject has no sidecar, and whether an injected
// pod's sidecar is current.
const (
	// reasonSidecarOutdated: the pod's sidecar is older than the one the
	// webhook injects now (its gopherscope.io/sidecar-version label differs,
	// or it has none: injected before the label existed).
	reasonSidecarOutdated = "sidecar-outdated"
	// reasonAnnotationNotLabel: gopherscope.io/inject: enabled is an
	// annotation; the webhook's selectors only see labels.
	reasonAnnotationNotLabel = "inject-annotation-not-label"
	// reasonWebhookNotInstalled: no MutatingWebhookConfiguration of gopherscope.
	reasonWebhookNotInstalled = "webhook-not-installed"
	// reasonCreatedBeforeWebhookReady: the pod is older than the webhook's
	// readiness, and the webhook injects its template now.
	reasonCreatedBeforeWebhookReady = "created-before-webhook-ready"
	// reasonCreatedBeforeOptIn: the webhook injects the pod's template now,
	// and was ready when the pod was created (or its readiness is unknown):
	// the pod predates its namespace's or its own opt-in.
	reasonCreatedBeforeOptIn = "created-before-opt-in"
	// reasonWebhookUnreachable: a dry-run create of the pod's template comes
	// back without the sidecar: the API server does not reach the webhook.
	reasonWebhookUnreachable = "webhook-unreachable"
)

// hint is the one command or change that fixes a reason, for pod in
// namespace ns ("" where nothing does).
func (c *checker) hint(reason string, o owners) string {
	ns := c.namespace
	switch reason {
	case reasonSidecarOutdated, reasonCreatedBeforeWebhookReady, reasonCreatedBeforeOptIn:
		return o.restartCommand(ns)
	case string(injector.ReasonNotOptedIn):
		return fmt.Sprintf("kubectl label namespace %s %s=%s", ns, config.KeyInject, config.InjectEnabled)
	case reasonAnnotationNotLabel:
		return fmt.Sprintf("move %s: %s from the pod template's annotations to its labels", config.KeyInject, config.InjectEnabled)
	case string(injector.ReasonNamespaceDisabled):
		return fmt.Sprintf("kubectl label namespace %s %s=%s --overwrite", ns, config.KeyInject, config.InjectEnabled)
	case string(injector.ReasonPodOptedOut):
		return fmt.Sprintf("remove the label %s=%s from the pod template", config.KeyInject, config.InjectDisabled)
	case string(injector.ReasonPodAnnotationOptOut):
		return fmt.Sprintf("remove the annotation %s: %q from the pod template", config.KeyInject, config.InjectAnnotationFalse)
	case string(injector.ReasonExcludedNamespace):
		return fmt.Sprintf("remove %s from the chart value injection.excludedNamespaces (system namespaces and gopherscope's own stay excluded)", ns)
	case string(injector.ReasonHostNetwork):
		return "helm upgrade gopherscope ... --reuse-values --set injection.allowHostNetwork=true"
	case string(injector.ReasonResources):
		return "lower injection.sidecar.resources, or raise the namespace's LimitRange"
	case string(injector.ReasonInvalidAnnotations):
		return "fix the gopherscope.io/ annotations the reason names (strict mode refuses them)"
	case reasonWebhookNotInstalled:
		return "helm install gopherscope charts/gopherscope -n gopherscope --create-namespace (see the README)"
	case reasonWebhookUnreachable:
		if c.inst.service == "" {
			return fmt.Sprintf("make %s reachable from the API server, with the caBundle of the webhook configuration %s", c.inst.url, c.inst.webhookConfig)
		}
		return fmt.Sprintf("kubectl get endpointslices -n %s -l kubernetes.io/service-name=%s", c.inst.namespace, c.inst.service)
	}
	return ""
}
