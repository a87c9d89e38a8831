package injector

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/gopherscope/gopherscope/config"
)

// Namespace is what the injector knows about the namespace a pod is created in.
type Namespace struct {
	// Name of the namespace.
	Name string
	// Labels of the namespace (the inject label among them).
	Labels map[string]string
	// Offline is set by callers with no namespace to look at (the CLI): the
	// namespace then counts as opted in, and only the pod's own opt-out and
	// the exclusions (hostNetwork, gopherscope's own pods) apply.
	Offline bool
}

// Action is what the injector decided to do with a pod.
type Action string

// The actions.
const (
	// ActionInject means the returned pod carries the sidecar.
	ActionInject Action = "inject"
	// ActionSkip means the pod is admitted unchanged.
	ActionSkip Action = "skip"
	// ActionDeny means the pod must be refused (strict mode only).
	ActionDeny Action = "deny"
)

// Decision is the injector's verdict on one pod.
type Decision struct {
	// Action is inject, skip or deny.
	Action Action `json:"action"`
	// Reason is a short, fixed, machine-readable word (a metric label value).
	Reason Reason `json:"reason"`
	// Message explains the decision to a person.
	Message string `json:"message"`
}

// Reason explains a Decision in one word from a fixed set.
type Reason string

// Inject decides whether pod gets the sidecar and returns the resulting pod,
// the warnings to show the user, and the decision. It never modifies pod: the
// returned pod is a copy. It is pure, deterministic and idempotent: the same
// inputs give the same output, and injecting an injected pod changes nothing.
func Inject(pod *corev1.Pod, ns Namespace, cfg *config.Config) (*corev1.Pod, []string, Decision) {
	panic("TODO(injector): being implemented")
}
