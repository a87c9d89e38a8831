package config

// The reasons of the Events the webhook's auditor records on the owners of
// pods. They are here, not in package auditor, so that readers of those
// Events (gopherscope check) need not import the controller.
const (
	// EventReasonSidecarMissing is the reason of the Warning Event recorded
	// on the owner of an uninjected pod.
	EventReasonSidecarMissing = "SidecarMissing"
	// EventReasonPodEvicted is the reason of the Normal Event recorded on the
	// owner of an uninjected pod the auditor evicted.
	EventReasonPodEvicted = "UninjectedPodEvicted"
	// EventReasonWebhookUnreachable is the reason of the Warning Event
	// recorded on the owner of a pod created while the webhook was ready that
	// lacks the sidecar: the API server cannot reach the webhook.
	EventReasonWebhookUnreachable = "WebhookUnreachable"
)
